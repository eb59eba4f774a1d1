/**
 * The double's long-running server: the host starts it (as the `dokku` user)
 * beside sshd, and every SSH command's entry script hands its argv to it through
 * the client (`dokku-double/client`), so no command pays for a Node start.
 * Commands naming different apps run side by side, as on Dokku; commands naming
 * the same app queue behind each other (`commandLocks.ts`), injected latency
 * included. Each state change still happens under the state directory's flock,
 * which the client takes on request, so the test side's fault arming and log
 * reading (`faultControl.ts`) see exactly what they saw before.
 *
 * Usage: node daemon.js <socket path>   (state directory from DOKKU_DOUBLE_STATE_DIR)
 */
import { rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { commandSubject, SubjectLocks } from "./commandLocks.ts";
import { type CommandSession, runCommand } from "./commandRun.ts";
import {
  encodeFrame,
  FRAME,
  FrameReader,
  type FrameType,
  ProtocolError,
  parseClientRequest,
} from "./daemonProtocol.ts";
import { ForwardedStdin } from "./forwardedStdin.ts";

const locks = new SubjectLocks();

async function serve(socket: Socket, stateDir: string): Promise<void> {
  const reader = new FrameReader(socket);
  const send = (type: FrameType, payload: Buffer | string = ""): void => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(type, payload));
  };
  const request = parseClientRequest((await reader.expect(FRAME.request)).payload);
  const stdin = new ForwardedStdin(request.stdinTty);
  const session: CommandSession = {
    stdin,
    async lock() {
      send(FRAME.lock);
      await reader.expect(FRAME.lock);
    },
    unlock: () => send(FRAME.unlock),
    async drop() {
      send(FRAME.drop);
      socket.end();
    },
    async fetchStdin(mode) {
      send(FRAME.read, mode);
      for (;;) {
        const frame = await reader.next();
        if (frame.type === FRAME.eof) stdin.end();
        else if (frame.type === FRAME.read) stdin.append(frame.payload);
        else throw new ProtocolError(`expected stdin, got frame ${frame.type}`);
        if (frame.type === FRAME.eof || (mode === "line" && stdin.hasLine())) break;
      }
      stdin.rewind();
    },
  };
  const subject = commandSubject(request.argv, request.env.DOKKU_APP_NAME ?? "");
  const outcome = await locks.run(subject, () =>
    runCommand({ stateDir, argv: request.argv, env: request.env }, session),
  );
  if (outcome.kind === "dropped") return;
  if (outcome.stdout.length > 0) send(FRAME.stdout, outcome.stdout);
  if (outcome.stderr.length > 0) send(FRAME.stderr, outcome.stderr);
  send(FRAME.exit, String(outcome.exitCode));
  socket.end();
}

function main(argv: readonly string[]): void {
  const socketPath = argv[0];
  const stateDir = process.env.DOKKU_DOUBLE_STATE_DIR;
  if (!socketPath || !stateDir) {
    process.stderr.write("usage: DOKKU_DOUBLE_STATE_DIR=<dir> node daemon.js <socket path>\n");
    process.exitCode = 2;
    return;
  }
  // The socket is the dokku user's alone, like its state.
  process.umask(0o077);
  rmSync(socketPath, { force: true });
  const server = createServer((socket) => {
    serve(socket, stateDir).catch((error: unknown) => {
      // A client that went away needs nothing more; anything else is a bug the client should see.
      if (!(error instanceof ProtocolError)) {
        process.stderr.write(`dokku-double daemon: ${(error as Error).stack ?? String(error)}\n`);
        if (socket.writable) {
          socket.write(
            encodeFrame(FRAME.stderr, `dokku-double internal error: ${(error as Error).message}\n`),
          );
          socket.write(encodeFrame(FRAME.exit, "70"));
        }
      }
      socket.destroy();
    });
  });
  server.on("error", (error) => {
    process.stderr.write(`dokku-double daemon: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(socketPath);
}

main(process.argv.slice(2));
