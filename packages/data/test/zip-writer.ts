// Test-only ZIP writer: builds archives in the shapes real writers produce (stored, deflate,
// ZIP64 extra fields with 0xFFFFFFFF placeholders, a ZIP64 end record), so the reader is tested
// against each layout byte by byte.
import { crc32, deflateRawSync } from 'node:zlib';

export interface MemberSpec {
  name: string;
  data: Buffer;
  method: 0 | 8;
  /** Write 0xFFFFFFFF sizes plus a ZIP64 extra field in the local header (as numpy does). */
  zip64Local?: boolean;
  /** Write 0xFFFFFFFF sizes and offset plus a ZIP64 extra field in the central directory. */
  zip64Central?: boolean;
  /** Corrupt the stored CRC. */
  badCrc?: boolean;
}

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

export function buildZip(members: MemberSpec[], options: { zip64End?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const body = m.method === 8 ? deflateRawSync(m.data) : m.data;
    const crc = (crc32(m.data) ^ (m.badCrc ? 1 : 0)) >>> 0;
    const localExtra = m.zip64Local
      ? Buffer.concat([Buffer.from([1, 0, 16, 0]), u64(m.data.length), u64(body.length)])
      : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(m.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(m.zip64Local ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(m.zip64Local ? 0xffffffff : m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    chunks.push(local, name, localExtra, body);

    const centralExtra = m.zip64Central
      ? Buffer.concat([Buffer.from([1, 0, 24, 0]), u64(m.data.length), u64(body.length), u64(offset)])
      : Buffer.alloc(0);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt16LE(m.method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : m.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(centralExtra.length, 30);
    c.writeUInt32LE(m.zip64Central ? 0xffffffff : offset, 42);
    central.push(c, name, centralExtra);
    offset += local.length + name.length + localExtra.length + body.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (options.zip64End) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(members.length), 24);
    rec.writeBigUInt64LE(BigInt(members.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64End ? 0xffff : members.length, 8);
  end.writeUInt16LE(options.zip64End ? 0xffff : members.length, 10);
  end.writeUInt32LE(options.zip64End ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(options.zip64End ? 0xffffffff : cdOffset, 16);
  return Buffer.concat([...chunks, cd, ...tail, end]);
}

/** A .npy file: version 1 or 2 header padded to 64 bytes, then the raw bytes. */
export function buildNpy(descr: string, shape: number[], data: Buffer, version: 1 | 2 = 1, fortran = false): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, ' ') + '\n';
  const pre = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(pre);
  if (version === 1) pre.writeUInt16LE(header.length, 8);
  else pre.writeUInt32LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}
