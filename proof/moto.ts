/**
 * A moto server on loopback for the tests and the rehearsal: a free port, a bounded wait for
 * readiness, and a stop by PID that also runs when the process exits.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

/** A running moto server. */
export interface MotoServer {
  /** Its origin, such as http://127.0.0.1:43817. */
  readonly endpoint: string;
  /** Its process id. */
  readonly pid: number;
  /** Where its output goes. */
  readonly logFile: string;
  /** Stops it by its PID and waits (bounded) for it to exit. */
  stop(): Promise<void>;
}

/** The path of an executable found on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A TCP port that is free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** moto's server with the rehearsal's emulator fixes (proof/emulator/moto_server.py). */
export const MOTO_SERVER_SCRIPT = path.join(__dirname, "emulator", "moto_server.py");

const READY_ATTEMPTS = 100;
const READY_INTERVAL_MS = 150;

/** A moto server that was started and may not answer yet. */
export interface StartingMoto extends MotoServer {
  /** Resolves once it answers (at most READY_ATTEMPTS tries); otherwise stops it and throws with its log's tail. */
  ready(): Promise<void>;
}

/**
 * Waits until a moto server answers on `endpoint`, or `gone()` says its process exited; true when it answered.
 * It asks for the dashboard's page, which costs nothing: data.json dumps every resource (14 MB, a minute, once a suite has run).
 */
export async function motoAnswers(endpoint: string, gone: () => boolean = () => false): Promise<boolean> {
  for (let attempt = 0; attempt < READY_ATTEMPTS && !gone(); attempt++) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
  }
  return false;
}

/**
 * Starts moto_server on 127.0.0.1, with AWS managed IAM policies loaded, without waiting for it to
 * answer. Throws with install advice when moto is missing.
 */
export async function spawnMoto(logDir: string, env: NodeJS.ProcessEnv = process.env): Promise<StartingMoto> {
  const binary = onPath("moto_server", env);
  if (!binary) {
    throw new Error(
      "moto_server is not on PATH. Install the AWS emulator with: pip install 'moto[server]==5.2.1' (Python 3.9 or later), then run again.",
    );
  }
  const port = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `moto-${port}.log`);
  const log = fs.openSync(logFile, "w");
  // moto's server, with the one emulator fix the Transit Gateway variant needs (see the script).
  const child: ChildProcess = spawn("python3", [MOTO_SERVER_SCRIPT, "-H", "127.0.0.1", "-p", String(port)], {
    env: { ...env, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const pid = child.pid!;
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  const killOnExit = () => {
    if (!exited) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (exited) return;
    process.kill(pid, "SIGTERM");
    const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5000).unref());
    if ((await Promise.race([exitedPromise, timer])) === "timeout") {
      process.kill(pid, "SIGKILL");
      await exitedPromise;
    }
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const ready = async () => {
    if (await motoAnswers(endpoint, () => exited)) return;
    await stop();
    const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
    throw new Error(
      `moto_server did not answer on ${endpoint} within ${(READY_ATTEMPTS * READY_INTERVAL_MS) / 1000} s. Its log (${logFile}) ends with:\n${tail}`,
    );
  };
  return { endpoint, pid, logFile, stop, ready };
}

/** Starts moto_server (spawnMoto) and waits until it answers. */
export async function startMoto(logDir: string, env: NodeJS.ProcessEnv = process.env): Promise<MotoServer> {
  const moto = await spawnMoto(logDir, env);
  await moto.ready();
  return { endpoint: moto.endpoint, pid: moto.pid, logFile: moto.logFile, stop: moto.stop };
}
