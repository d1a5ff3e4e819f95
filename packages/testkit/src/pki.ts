/**
 * A throwaway certificate authority for tests, made with Debian's `openssl` at test time: a CA
 * and certificates it signs for `localhost` and `127.0.0.1`, usable as server and client
 * certificates (TLS, mTLS, NATS and S3 behind TLS). Issuing a name again overwrites its files
 * with a new certificate (a new serial), as a rotation does. Usable with `await using`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as PEM files. */
export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The serial number in upper-case hex, as Node's `PeerCertificate.serialNumber` gives it. */
  readonly serial: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A test CA in a temporary directory. */
export class TestPki implements AsyncDisposable {
  /** The directory of every file. */
  readonly dir: string;
  /** The CA certificate (PEM): what clients and servers trust. */
  readonly caFile: string;
  readonly #caKeyFile: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.caFile = join(dir, 'ca.pem');
    this.#caKeyFile = join(dir, 'ca.key');
  }

  /** Makes a CA named `commonName`. */
  static async create(commonName = 'kzr test CA'): Promise<TestPki> {
    const pki = new TestPki(await mkdtemp(join(tmpdir(), 'kzr-pki-')));
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      [
        'req',
        '-x509',
        ...curve,
        '-keyout',
        pki.#caKeyFile,
        '-out',
        pki.caFile,
        '-days',
        '2',
        '-subj',
        `/CN=${commonName}`,
      ],
      pki.dir,
    );
    return pki;
  }

  /**
   * Issues `<name>.pem` and `<name>.key` for `subject` (such as `/CN=kzr-inference/O=kzr`),
   * valid for `localhost` and `127.0.0.1` as a server and as a client. The files are replaced
   * by rename, so a reader sees the old pair or the new one.
   */
  async issue(name: string, subject = `/CN=${name}`): Promise<IssuedCertificate> {
    // A first byte of 0x10-0x7f: sixteen hex digits with no leading zero (Node pads an odd count
    // with one) and no sign byte, so the hex reads the same here and in `serialNumber`.
    const bytes = randomBytes(8);
    bytes[0] = 0x10 + (bytes[0]! % 0x70);
    const serial = bytes.toString('hex').toUpperCase();
    const tmp = join(this.dir, `${name}.${serial}`);
    const extensions = `${tmp}.ext`;
    await writeFile(
      extensions,
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n',
    );
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(['req', ...curve, '-keyout', `${tmp}.key`, '-out', `${tmp}.csr`, '-subj', subject], this.dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${tmp}.csr`,
        '-CA',
        this.caFile,
        '-CAkey',
        this.#caKeyFile,
        '-set_serial',
        `0x${serial}`,
        '-days',
        '2',
        '-extfile',
        extensions,
        '-out',
        `${tmp}.pem`,
      ],
      this.dir,
    );
    const certFile = join(this.dir, `${name}.pem`);
    const keyFile = join(this.dir, `${name}.key`);
    await rename(`${tmp}.key`, keyFile);
    await rename(`${tmp}.pem`, certFile);
    return { certFile, keyFile, serial };
  }

  /** Removes every file. */
  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
