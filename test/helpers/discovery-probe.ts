/**
 * Run as a child process (often inside a private mount namespace that hides or replaces local
 * sockets): finds the engine with the provider's discovery and prints one JSON line
 * `{host, source, id}` or `{error, name}`. The engine's `/info` DockerRootDir tells which daemon answered.
 */
import { DockerClient } from "../../provider/docker";

async function main(): Promise<void> {
  const conn = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
  const client = new DockerClient(conn);
  try {
    const info = await client.json<{ DockerRootDir: string }>("GET", "/info");
    process.stdout.write(`${JSON.stringify({ host: client.host, source: client.source, id: info.DockerRootDir })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message, name: (err as Error).name })}\n`);
  } finally {
    await client.close();
  }
}

void main();
