// x-request-id values in Envoy's shape (a UUID v4: 122 random bits, version nibble 4, variant
// 10xx). Every request that lacks an id gets one, so the bytes come from a pool and are
// hex-encoded through a lookup table: no system call, no per-id buffer. (randomUUID also pools,
// but its per-call path cost ~3× this in the proxy profile.)
//
// The bytes are the kernel's CSPRNG (Envoy's come from BoringSSL's RAND_bytes), read from
// /dev/urandom with node:fs, which every sidecar has loaded, so that a sidecar without mTLS never
// loads node:crypto (17 modules, ≈ 1.4 MB of RSS; issue 15): one synchronous read at start, then
// the spare pool is refilled asynchronously while the other is used, and the two swap when one runs
// out — never a read on the request path. Without /dev/urandom (or when a read fails), and in the
// rare case that ids outrun the refill, the pool is filled by node:crypto's randomFillSync instead.
import { Buffer, cryptoModule, fs } from "../../core/builtins.ts";

const ID_BYTES = 16;

/** ASCII hex digit pairs, as byte codes: HEX_HI[b], HEX_LO[b]. */
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, "0");
  HEX_HI[i] = h.charCodeAt(0);
  HEX_LO[i] = h.charCodeAt(1);
}
/** Where the 16 bytes go in the 36-character text (dashes at 8, 13, 18, 23). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const text = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");

export class RequestIdSource {
  private pool: Buffer;
  private spare: Buffer;
  private next = 0;
  /** /dev/urandom, open for the life of the process; -1 once it cannot be opened or read. */
  private fd: number;
  private spareReady = false;
  private refill: Promise<void> | null = null;

  /** `poolBytes` (a multiple of 16) per pool; `path` is the kernel's CSPRNG (another path in tests). */
  constructor(poolBytes = 64 * 1024, path = "/dev/urandom") {
    this.pool = Buffer.allocUnsafe(poolBytes);
    this.spare = Buffer.allocUnsafe(poolBytes);
    this.fd = openRandom(path);
    if (this.fd < 0 || !readFullySync(this.fd, this.pool)) this.fallbackFill(this.pool);
    this.startRefill();
  }

  /**
   * The id is written as ASCII into one scratch buffer and read out as one flat string: joining
   * 20 pieces would give a rope that every later write of the header has to flatten again.
   */
  newId(): string {
    if (this.next + ID_BYTES > this.pool.length) this.swap();
    const b = this.pool;
    const p = this.next;
    this.next = p + ID_BYTES;
    for (let k = 0; k < ID_BYTES; k++) {
      let v = b[p + k]!;
      if (k === 6) v = (v & 0x0f) | 0x40; // version 4
      else if (k === 8) v = (v & 0x3f) | 0x80; // variant 10xx
      const at = AT[k]!;
      text[at] = HEX_HI[v]!;
      text[at + 1] = HEX_LO[v]!;
    }
    return text.toString("latin1", 0, 36);
  }

  /** Settles when the refill in flight (if any) has filled the spare pool; for tests. */
  spareFilled(): Promise<void> {
    return this.refill ?? Promise.resolve();
  }

  private swap(): void {
    if (this.spareReady) {
      const used = this.pool;
      this.pool = this.spare;
      this.spare = used;
      this.spareReady = false;
      this.startRefill();
    } else {
      // The refill is still in flight (or /dev/urandom is gone): never wait for it here.
      this.fallbackFill(this.pool);
    }
    this.next = 0;
  }

  private startRefill(): void {
    if (this.fd < 0 || this.refill !== null) return;
    const fd = this.fd;
    const spare = this.spare;
    this.refill = readFully(fd, spare).then((ok) => {
      this.refill = null;
      if (ok) this.spareReady = true;
      else this.fd = -1;
    });
  }

  private fallbackFill(b: Buffer): void {
    cryptoModule().randomFillSync(b);
  }
}

function openRandom(path: string): number {
  try {
    return fs.openSync(path, "r");
  } catch {
    return -1;
  }
}

/** Reads until `b` is full (a read of /dev/urandom may return short); false at end of file or on error. */
function readFullySync(fd: number, b: Buffer): boolean {
  try {
    for (let at = 0; at < b.length; ) {
      const n = fs.readSync(fd, b, at, b.length - at, null);
      if (n === 0) return false;
      at += n;
    }
    return true;
  } catch {
    return false;
  }
}

function readFully(fd: number, b: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const step = (at: number): void => {
      if (at === b.length) return resolve(true);
      fs.read(fd, b, at, b.length - at, null, (e, n) => (e !== null || n === 0 ? resolve(false) : step(at + n)));
    };
    step(0);
  });
}

const source = new RequestIdSource();

export function newRequestId(): string {
  return source.newId();
}
