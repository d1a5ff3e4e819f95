// Test helper: the S3 server as its own process, so a fault test can kill it (SIGKILL) and start
// it again on the same port and folder: `node --import tsx test/helpers/s3-server-main.ts <port>
// <directory>`. Prints its endpoint once it listens; serves until killed.
import { S3Server } from '@kzr/testkit';

const [port, directory] = process.argv.slice(2);
const server = await S3Server.start({ port: Number(port), directory: directory! });
console.log(JSON.stringify({ endpoint: server.endpoint }));
