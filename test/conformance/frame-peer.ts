// The suite's end of an established WebSocket connection, shared by the raw client (testing a server) and
// the raw server (testing a client). It sends hand-built frames in arbitrary chunkings and reads the other
// side's frames strictly, waiting on socket events with timeouts — never on sleeps.
import type { Socket } from 'node:net';
import {
  buildFrame,
  chunksOf,
  closePayload,
  describeFrame,
  type Frame,
  FrameParser,
  type FrameSpec,
  Op,
  toBuffer,
} from './frames.js';
import { isValidUtf8 } from './utf8.js';

export type Role = 'client' | 'server';

/** How long one expectation waits before failing the case (the implementation never answered). */
export const DEFAULT_TIMEOUT_MS = 3000;

export interface SendOptions {
  /** Write the bytes in pieces of this many bytes, each its own socket write. Default: one write. */
  chunkSize?: number;
}

/** The Sec-WebSocket-Extensions headers of the opening handshake. */
export interface Extensions {
  /** What the client offered (undefined: no header). */
  offer: string | undefined;
  /** What the server answered (undefined: no header, nothing negotiated). */
  answer: string | undefined;
}

export interface CloseInfo {
  /** Status code, or undefined for a Close frame with an empty payload. */
  code: number | undefined;
  reason: Buffer;
}

export class FramePeer {
  private readonly parser: FrameParser;
  private readonly frames: Frame[] = [];
  private readonly history: string[] = [];
  private wake: (() => void) | undefined;
  private violation: Error | undefined;
  private tcpClosed = false;
  private closeSent = false;
  private closeReceived = false;

  /**
   * @param role the suite's role on this connection: 'client' masks what it sends and expects unmasked frames.
   * @param head bytes that arrived after the HTTP handshake in the same read.
   * @param extensions the extension headers of the handshake; an answer allows RSV1 (permessage-deflate).
   */
  constructor(
    readonly socket: Socket,
    readonly role: Role,
    head: Buffer,
    readonly extensions: Extensions = { offer: undefined, answer: undefined },
  ) {
    this.parser = new FrameParser(role === 'server', extensions.answer !== undefined);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onTcpClosed('FIN'));
    socket.on('close', () => this.onTcpClosed('close'));
    // Writes racing the peer's close may fail with EPIPE/ECONNRESET; the connection is over either way.
    socket.on('error', (err) =>
      this.onTcpClosed(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`),
    );
    if (head.length > 0) this.onData(head);
    socket.resume(); // the handshake reader left it paused so no byte could slip past
  }

  private onData(chunk: Buffer): void {
    if (this.violation) return;
    try {
      for (const f of this.parser.push(chunk)) {
        this.history.push(describeFrame(f));
        this.frames.push(f);
      }
    } catch (err) {
      this.violation = err as Error;
    }
    this.wake?.();
  }

  private onTcpClosed(how: string): void {
    if (!this.tcpClosed) this.history.push(`<tcp ${how}>`);
    this.tcpClosed = true;
    this.wake?.();
  }

  /** Received frames so far plus TCP events, for failure messages. */
  get log(): string {
    return this.history.length ? this.history.join(' ') : '(nothing)';
  }

  // ---- sending -------------------------------------------------------------------------------------------

  /** Writes raw bytes, optionally as separate writes of `chunkSize` bytes. Resolves once handed to the OS. */
  async sendBytes(bytes: Buffer, opts: SendOptions = {}): Promise<void> {
    const size = Math.max(1, opts.chunkSize ?? bytes.length);
    const pieces = bytes.length <= size ? [bytes] : chunksOf(bytes, size);
    let flushed: Promise<void> = Promise.resolve();
    for (const piece of pieces) {
      // Once the peer is gone, there is nothing sensible to send; the case's next expectation reports it.
      if (this.socket.destroyed || this.socket.writableEnded) break;
      // The callback also fires (with an error) if the socket is destroyed meanwhile.
      flushed = new Promise<void>((resolve) => this.socket.write(piece, () => resolve()));
      if (this.socket.writableNeedDrain) await flushed;
    }
    await flushed;
  }

  /** Serializes and sends frames, masked as this side's role requires unless a spec says otherwise. */
  send(specs: FrameSpec | FrameSpec[], opts: SendOptions = {}): Promise<void> {
    const list = Array.isArray(specs) ? specs : [specs];
    for (const s of list) if (s.opcode === Op.Close) this.closeSent = true;
    const frames = list.map((s) => buildFrame(s, this.role === 'client'));
    return this.sendBytes(frames.length === 1 ? frames[0] : Buffer.concat(frames), opts);
  }

  /** Sends each frame as its own write (Autobahn's "frame-wise"). */
  async sendFrameWise(specs: FrameSpec[]): Promise<void> {
    for (const s of specs) await this.send(s);
  }

  sendText(text: string | Buffer, opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Text, payload: text }, opts);
  }

  sendBinary(data: Buffer, opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Binary, payload: data }, opts);
  }

  sendPing(payload: Buffer | string = ''): Promise<void> {
    return this.send({ opcode: Op.Ping, payload });
  }

  sendPong(payload: Buffer | string = ''): Promise<void> {
    return this.send({ opcode: Op.Pong, payload });
  }

  /** Sends a Close frame; without a code its payload is empty. */
  sendClose(code?: number, reason: Buffer | string = ''): Promise<void> {
    return this.send({
      opcode: Op.Close,
      payload: code === undefined ? undefined : closePayload(code, reason),
    });
  }

  /** Half-closes the TCP connection (FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- expecting -----------------------------------------------------------------------------------------

  private fail(message: string): never {
    throw new Error(`${message}; received: ${this.log}`);
  }

  /** Re-evaluates `check` on every socket event until it returns a value, or fails after `timeoutMs`. */
  private waitFor<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        try {
          const v = check();
          if (v === undefined) return false;
          resolve(v);
        } catch (err) {
          reject(err);
        }
        return true;
      };
      if (attempt()) return;
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.log}`));
      }, timeoutMs);
      this.wake = () => {
        if (attempt()) {
          clearTimeout(timer);
          this.wake = undefined;
        }
      };
    });
  }

  /** The next frame, whatever it is. Fails on a protocol violation by the peer or if TCP closes first. */
  nextFrame(what = 'a frame', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.waitFor(
      what,
      () => {
        const f = this.frames.shift();
        if (f) {
          if (f.opcode === Op.Close) this.closeReceived = true;
          return f;
        }
        if (this.violation)
          this.fail(`peer violated the protocol (${this.violation.message}) before ${what}`);
        if (this.tcpClosed) this.fail(`connection closed before ${what}`);
        return undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Expects the next frames to form one data message (a first frame and its continuations, no control frame
   * in between) with exactly this type and payload. Servers may fragment as they like (§5.4), so fragment
   * boundaries are not compared.
   */
  async expectMessage(
    opcode: number,
    payload: Buffer | string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Frame[]> {
    const expected = toBuffer(payload);
    const kind = opcode === Op.Text ? 'text' : 'binary';
    const what = `the echo of a ${expected.length}-byte ${kind} message`;
    const first = await this.nextFrame(what, timeoutMs);
    if (first.opcode !== opcode) this.fail(`expected ${what}, got ${describeFrame(first)}`);
    const frames = [first];
    while (!frames[frames.length - 1].fin) {
      const f = await this.nextFrame(`the continuation of ${what}`, timeoutMs);
      if (f.opcode !== Op.Continuation)
        this.fail(`expected a continuation of ${what}, got ${describeFrame(f)}`);
      frames.push(f);
    }
    const got = frames.length === 1 ? first.payload : Buffer.concat(frames.map((f) => f.payload));
    if (!got.equals(expected)) {
      const at = firstDifference(got, expected);
      this.fail(`${what}: got ${got.length} bytes differing from the sent ones at offset ${at}`);
    }
    return frames;
  }

  expectText(text: string | Buffer, timeoutMs?: number): Promise<Frame[]> {
    return this.expectMessage(Op.Text, text, timeoutMs);
  }

  expectBinary(data: Buffer, timeoutMs?: number): Promise<Frame[]> {
    return this.expectMessage(Op.Binary, data, timeoutMs);
  }

  async expectPong(payload: Buffer | string = ''): Promise<void> {
    const expected = toBuffer(payload);
    const f = await this.nextFrame(`a pong with ${expected.length}-byte payload`);
    if (f.opcode !== Op.Pong) this.fail(`expected a pong, got ${describeFrame(f)}`);
    if (!f.payload.equals(expected)) {
      this.fail(
        `pong payload ${f.payload.toString('hex')} differs from ping payload ${expected.toString('hex')}`,
      );
    }
  }

  async expectPing(payload: Buffer | string = ''): Promise<void> {
    const f = await this.nextFrame('a ping');
    if (f.opcode !== Op.Ping) this.fail(`expected a ping, got ${describeFrame(f)}`);
    if (!f.payload.equals(toBuffer(payload))) this.fail('ping payload differs');
  }

  /**
   * Expects the next frame to be a Close frame with `code` ('empty' for no payload at all). Unless this side
   * already sent one, answers with a Close frame echoing the code, as a well-behaved endpoint does (§5.5.1).
   */
  async expectClose(code: number | 'empty', opts: { reply?: boolean } = {}): Promise<CloseInfo> {
    const what = code === 'empty' ? 'a Close frame with no payload' : `a Close frame with code ${code}`;
    const f = await this.nextFrame(what);
    if (f.opcode !== Op.Close) this.fail(`expected ${what}, got ${describeFrame(f)}`);
    const got = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined;
    const info: CloseInfo = { code: got, reason: f.payload.subarray(2) };
    if (code === 'empty' ? f.payload.length !== 0 : got !== code) {
      this.fail(`expected ${what}, got ${describeFrame(f)}`);
    }
    if (!isValidUtf8(info.reason)) this.fail('close reason is not valid UTF-8');
    if ((opts.reply ?? true) && !this.closeSent) {
      await this.send({ opcode: Op.Close, payload: f.payload.subarray(0, 2) });
    }
    return info;
  }

  /**
   * Expects the peer to close the TCP connection (FIN or reset) with no further frame. Used once the closing
   * handshake is done, when §7.1.1 has the server drop TCP first.
   */
  expectTcpClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.waitFor(
      'the TCP connection to be closed',
      () => {
        const extra = this.frames.shift();
        if (extra) this.fail(`unexpected ${describeFrame(extra)} after the closing handshake (§5.5.1)`);
        if (this.violation) this.fail(`peer violated the protocol (${this.violation.message})`);
        return this.tcpClosed ? true : undefined;
      },
      timeoutMs,
    ).then(() => undefined);
  }

  get receivedClose(): boolean {
    return this.closeReceived;
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
