/**
 * A fault-injecting TCP proxy for tests: it sits between a client and a
 * server on 127.0.0.1 and, per direction, can delay every chunk, stall,
 * split the stream into 1-byte packets, or cut the connection after N bytes,
 * with a FIN or a real RST.
 *
 * Built on `node:net` because `Deno.TcpConn` cannot send an RST (it has no
 * `SO_LINGER`); `socket.resetAndDestroy()` can, and the peer sees
 * `ConnectionReset`.
 *
 * Directions: `up` is client to server (requests), `down` is server to
 * client (responses).
 *
 * @example
 * ```ts ignore
 * await using proxy = await FaultProxy.start({
 *   targetPort: server.port,
 *   faults: (index) => ({ up: { cutAfter: 100 }, cut: "rst" }),
 * });
 * const client = new Client("127.0.0.1", proxy.port);
 * ```
 *
 * @module
 */

import net from "node:net";

/** `up`: client to server; `down`: server to client. */
export type Direction = "up" | "down";

/** How a connection is cut: a FIN (orderly close) or an RST (reset). */
export type CutKind = "fin" | "rst";

/** Faults applied to one direction of one connection. */
export interface DirectionFaults {
  /** Hold each chunk this many milliseconds before forwarding it. */
  delayMs?: number;
  /**
   * Forward one byte per write, each as its own TCP packet, with a 1 ms
   * pause after each so the peer reads them one by one.
   */
  split?: boolean;
  /** Forward nothing (the source is paused, so TCP pushes back). */
  stalled?: boolean;
  /** Forward this many bytes, then cut the whole connection. */
  cutAfter?: number;
}

/** Faults of one proxied connection. */
export interface ConnectionFaults {
  /** Faults on the requests, client to server. */
  up?: DirectionFaults;
  /** Faults on the responses, server to client. */
  down?: DirectionFaults;
  /** How `cutAfter` cuts. @default {"rst"} */
  cut?: CutKind;
}

/** Options of {@link FaultProxy.start}. */
export interface ProxyOptions {
  /** The server's port (on 127.0.0.1); can be changed later. */
  targetPort: number;
  /** Faults for the connection accepted `index`-th (from 0). */
  faults?: (index: number) => ConnectionFaults;
}

/** What the proxy did so far. */
export interface ProxyStats {
  /** Connections accepted from clients. */
  connections: number;
  /** Connections cut with a FIN. */
  finCuts: number;
  /** Connections cut with an RST. */
  rstCuts: number;
  /** Connections closed because the server could not be reached. */
  refused: number;
  /** Bytes forwarded client to server. */
  bytesUp: number;
  /** Bytes forwarded server to client. */
  bytesDown: number;
}

/** Pause the source once this much is queued in one direction. */
const HIGH_WATER = 256 * 1024;

/** The proxy; close it with `await using` or {@link FaultProxy.close}. */
export class FaultProxy implements AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** The server's port; change it to follow a restarted server. */
  targetPort: number;
  /** Faults for each new connection; change it between phases. */
  faults: (index: number) => ConnectionFaults;
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  readonly #stalled = { up: false, down: false };
  readonly #unstall = { up: new Signal(), down: new Signal() };
  readonly #stats: ProxyStats = {
    connections: 0,
    finCuts: 0,
    rstCuts: 0,
    refused: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  #closing: Promise<void> | undefined;

  private constructor(server: net.Server, options: ProxyOptions) {
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
    this.targetPort = options.targetPort;
    this.faults = options.faults ?? (() => ({}));
    server.on("connection", (socket) => this.#accept(socket));
  }

  /** Listens on 127.0.0.1, on a free port. */
  static async start(options: ProxyOptions): Promise<FaultProxy> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new FaultProxy(server, options);
  }

  /** A snapshot of the counts. */
  stats(): ProxyStats {
    return { ...this.#stats };
  }

  /** Connections open now. */
  get open(): number {
    return this.#links.size;
  }

  /** Stalls (or resumes) one direction, or both, of every connection. */
  stall(direction: Direction | "both", on: boolean): void {
    for (
      const d of direction === "both" ? ["up", "down"] as const : [direction]
    ) {
      this.#stalled[d] = on;
      if (!on) this.#unstall[d].fire();
    }
  }

  /** Whether `direction` is stalled proxy-wide. */
  isStalled(direction: Direction): boolean {
    return this.#stalled[direction];
  }

  /** Waits until `direction` is no longer stalled proxy-wide. */
  whenUnstalled(direction: Direction): Promise<void> {
    return this.#unstall[direction].wait();
  }

  /** Cuts every open connection; returns how many were cut. */
  cutAll(kind: CutKind): number {
    let cut = 0;
    for (const link of this.#links) if (link.cut(kind)) cut++;
    return cut;
  }

  /** Counts a cut (called by a connection). */
  countCut(kind: CutKind): void {
    if (kind === "fin") this.#stats.finCuts++;
    else this.#stats.rstCuts++;
  }

  /** Counts forwarded bytes (called by a connection). */
  countBytes(direction: Direction, bytes: number): void {
    if (direction === "up") this.#stats.bytesUp += bytes;
    else this.#stats.bytesDown += bytes;
  }

  #accept(client: net.Socket): void {
    const index = this.#stats.connections++;
    if (this.#closing) {
      client.on("error", () => {});
      client.destroy();
      return;
    }
    const link = new Link(this, client, this.faults(index), () => {
      this.#stats.refused++;
    });
    this.#links.add(link);
    link.closed.then(() => this.#links.delete(link));
  }

  /** Stops listening, destroys every connection, waits for all to close. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      const listening = new Promise<void>((resolve) =>
        this.#server.close(() => resolve())
      );
      this.stall("both", false);
      for (const link of this.#links) link.destroy();
      await Promise.all([...this.#links].map((link) => link.closed));
      await listening;
    })();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A one-shot-per-round notifier. */
class Signal {
  #waiters: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  fire(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** One proxied connection: the client's socket and the server's. */
class Link {
  readonly closed: Promise<void>;
  readonly #proxy: FaultProxy;
  readonly #client: net.Socket;
  readonly #server: net.Socket;
  readonly #faults: ConnectionFaults;
  #cut = false;
  #destroyed = false;
  /** Cancels the delays of both directions. */
  readonly #abort = new AbortController();

  constructor(
    proxy: FaultProxy,
    client: net.Socket,
    faults: ConnectionFaults,
    onRefused: () => void,
  ) {
    this.#proxy = proxy;
    this.#client = client;
    this.#faults = faults;
    client.setNoDelay(true);
    this.#server = net.connect({
      host: "127.0.0.1",
      port: proxy.targetPort,
      noDelay: true,
    });
    const server = this.#server;
    const clientClosed = new Promise<void>((resolve) =>
      client.once("close", () => resolve())
    );
    const serverClosed = new Promise<void>((resolve) =>
      server.once("close", () => resolve())
    );
    // Errors (resets, refused) end the link; they are faults, not failures.
    client.on("error", () => this.destroy());
    let connected = false;
    server.on("error", () => {
      if (!connected) {
        onRefused();
        this.#reset();
      } else this.destroy();
    });
    server.once("connect", () => {
      connected = true;
      new Pipe(this, "up", client, server, faults.up ?? {});
      new Pipe(this, "down", server, client, faults.down ?? {});
      client.resume();
    });
    this.closed = Promise.all([clientClosed, serverClosed]).then(() => {
      this.#abort.abort();
    });
  }

  get proxy(): FaultProxy {
    return this.#proxy;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get isCut(): boolean {
    return this.#cut || this.#destroyed;
  }

  /** Cuts as configured after `cutAfter` bytes. */
  cutAsConfigured(): void {
    this.cut(this.#faults.cut ?? "rst");
  }

  /** Cuts both sides with a FIN or an RST; false if already cut. */
  cut(kind: CutKind): boolean {
    if (this.isCut) return false;
    this.#cut = true;
    this.#proxy.countCut(kind);
    this.#abort.abort();
    if (kind === "rst") {
      this.#reset();
    } else {
      // FIN both ways; whatever arrives later is read and dropped, so the
      // close stays orderly (unread data would turn it into an RST).
      for (const socket of [this.#client, this.#server]) {
        socket.on("data", () => {});
        socket.resume();
        socket.end();
      }
    }
    return true;
  }

  #reset(): void {
    this.#destroyed = true;
    this.#abort.abort();
    for (const socket of [this.#client, this.#server]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  /** Closes both sockets at once (proxy shutdown, socket error). */
  destroy(): void {
    this.#destroyed = true;
    this.#abort.abort();
    this.#client.destroy();
    this.#server.destroy();
  }
}

/** One direction of a link: reads `src`, applies faults, writes `dst`. */
class Pipe {
  readonly #link: Link;
  readonly #direction: Direction;
  readonly #src: net.Socket;
  readonly #dst: net.Socket;
  readonly #faults: DirectionFaults;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #forwarded = 0;
  #running = false;
  #ended = false;

  constructor(
    link: Link,
    direction: Direction,
    src: net.Socket,
    dst: net.Socket,
    faults: DirectionFaults,
  ) {
    this.#link = link;
    this.#direction = direction;
    this.#src = src;
    this.#dst = dst;
    this.#faults = faults;
    src.on("data", (chunk: Uint8Array) => {
      if (link.isCut) return;
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER) src.pause();
      this.#run();
    });
    src.on("end", () => {
      this.#ended = true;
      this.#run();
    });
  }

  /** Forwards the queue in order, one chunk at a time. */
  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const link = this.#link;
    const proxy = link.proxy;
    const faults = this.#faults;
    try {
      while (!link.isCut) {
        if (faults.stalled || proxy.isStalled(this.#direction)) {
          this.#src.pause();
          if (faults.stalled) {
            await abortable(new Promise(() => {}), link.signal);
          } else {
            await abortable(proxy.whenUnstalled(this.#direction), link.signal);
          }
          if (link.isCut) return;
          this.#src.resume();
          continue;
        }
        const chunk = this.#queue.shift();
        if (chunk === undefined) break;
        this.#queued -= chunk.length;
        if (faults.delayMs) {
          await abortable(delay(faults.delayMs, link.signal), link.signal);
          if (link.isCut) return;
        }
        let bytes = chunk;
        let cutNow = false;
        if (faults.cutAfter !== undefined) {
          const allowed = faults.cutAfter - this.#forwarded;
          if (bytes.length >= allowed) {
            bytes = bytes.subarray(0, Math.max(0, allowed));
            cutNow = true;
          }
        }
        if (faults.split) {
          for (let i = 0; i < bytes.length && !link.isCut; i++) {
            await this.#write(bytes.subarray(i, i + 1));
            // A pause, so the peer reads each byte before the next is sent.
            await delay(1, link.signal);
          }
        } else if (bytes.length > 0) {
          await this.#write(bytes);
        }
        if (cutNow) {
          link.cutAsConfigured();
          return;
        }
        if (this.#queued <= HIGH_WATER && this.#src.isPaused()) {
          this.#src.resume();
        }
      }
      if (this.#ended && this.#queue.length === 0 && !link.isCut) {
        this.#dst.end();
      }
    } finally {
      this.#running = false;
    }
  }

  /** Writes `bytes` and waits until node handed them to the kernel. */
  #write(bytes: Uint8Array): Promise<void> {
    this.#forwarded += bytes.length;
    this.#link.proxy.countBytes(this.#direction, bytes.length);
    return new Promise((resolve) => {
      if (this.#dst.destroyed) return resolve();
      this.#dst.write(bytes, () => resolve());
    });
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Resolves when `promise` does or when `signal` aborts. */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    promise.then(done);
  });
}
