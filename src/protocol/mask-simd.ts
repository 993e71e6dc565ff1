/**
 * A WebAssembly SIMD kernel for masking: XORs a scratch area with a 32-bit key, 64 bytes per loop
 * iteration (four 128-bit lanes). Masking in JavaScript tops out at 32 bits per operation (about
 * 5 GB/s here); this runs at about 45 GB/s, so copying a payload into the scratch, masking it there and
 * copying it out costs less than half of the JavaScript loop for anything past a few hundred bytes
 * (figures: docs/performance.md). The bytes below are the whole module; its text form:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 2)                        ;; two 64 KiB pages, for the scratch area
 *   (func (export "xor") (param $p i32) (param $end i32) (param $key i32)
 *     (local $k v128)
 *     (local.set $k (i32x4.splat (local.get $key)))
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
 *         (v128.store offset=0 (local.get $p)
 *           (v128.xor (v128.load offset=0 (local.get $p)) (local.get $k)))
 *         ;; the same at offsets 16, 32 and 48
 *         (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *         (br $next)))))
 * ```
 *
 * `xor(p, end, key)` masks `[p, end)`, the length rounded up to a multiple of 64 bytes: the bytes past
 * `end` are scratch too, so nothing needs a tail loop.
 */
// biome-ignore format: one line per part of the module
const MODULE = [
  // magic, version
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // type section: one type, (i32, i32, i32) -> ()
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00,
  // function section: one function of type 0
  0x03, 0x02, 0x01, 0x00,
  // memory section: one memory, minimum 2 pages, no maximum
  0x05, 0x03, 0x01, 0x00, 0x02,
  // export section: "memory" (memory 0), "xor" (function 0)
  0x07, 0x10, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x78, 0x6f, 0x72, 0x00, 0x00,
  // code section: one body of 0x61 bytes; locals: 1 v128 ($k)
  0x0a, 0x63, 0x01, 0x61, 0x01, 0x01, 0x7b,
  // local.get $key, i32x4.splat, local.set $k
  0x20, 0x02, 0xfd, 0x11, 0x21, 0x03,
  // block, loop
  0x02, 0x40, 0x03, 0x40,
  // local.get $p, local.get $end, i32.ge_u, br_if $done
  0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x01,
  // four times: local.get $p, local.get $p, v128.load offset, local.get $k, v128.xor, v128.store offset
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x00,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x10, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x10,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x20, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x20,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x30, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x30,
  // local.get $p, i32.const 64, i32.add, local.set $p, br $next, end loop, end block, end function
  0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b, 0x0b,
];

/**
 * Where the scratch area starts in the WebAssembly memory: mid-page. Copying out of a page-aligned
 * scratch area into a destination whose address is within a few dozen bytes of it modulo 4 KiB ran at
 * a seventh of the usual speed here (AMD EPYC), and page-aligned and page-plus-16 addresses are what the
 * C allocator gives large buffers, so the scratch area keeps away from them.
 */
const SCRATCH_AT = 2048;

/** Bytes masked per call: the scratch area, one WebAssembly page. A multiple of 4, so the key's phase carries over. */
export const SIMD_BLOCK = 65536;

/** The kernel: copy at most SIMD_BLOCK bytes into `scratch`, call `xor`, copy them out. */
export interface SimdXor {
  readonly scratch: Uint8Array;
  /** XORs `scratch[0, end)` (rounded up to 64 bytes) with `key`, a 32-bit word read little-endian. */
  xor(end: number, key: number): void;
}

/** What this file uses of the WebAssembly API (not in the TypeScript libraries this project loads). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
  Memory: unknown;
}

/**
 * Instantiates the kernel, or returns null where WebAssembly or its SIMD instructions are not
 * available (node --jitless, a CPU without SSE4.1): masking then stays in JavaScript.
 */
export function createSimdXor(): SimdXor | null {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    // Not named `exports`: in the CommonJS build that name would hide the module's own exports, which
    // the compiled code reads SIMD_BLOCK from (the scratch area was then 126 KiB, and masking a
    // payload over 64 KiB threw 'offset is out of bounds').
    const kernelExports = new wasm.Instance(new wasm.Module(Uint8Array.from(MODULE))).exports;
    const memory = kernelExports.memory as { buffer: ArrayBuffer };
    const kernel = kernelExports.xor as (p: number, end: number, key: number) => void;
    return {
      scratch: new Uint8Array(memory.buffer, SCRATCH_AT, SIMD_BLOCK),
      xor: (end, key) => kernel(SCRATCH_AT, SCRATCH_AT + end, key),
    };
  } catch {
    return null;
  }
}

/**
 * The kernel shared by every Masker of this thread. Its scratch area carries nothing from one call to
 * the next: each use copies bytes in, masks and copies them out within one synchronous call, so
 * sharing it is like sharing a function. One instance per thread also means one WebAssembly memory
 * (and its address-space reservation) per thread, not one per connection.
 */
export const SHARED_SIMD_XOR: SimdXor | null = createSimdXor();
