// Node types this project builds with do not declare WebAssembly (lib ES2023, no DOM).
const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
const WASM_PAGE = 64 * 1024;

/**
 * A zeroed buffer of `bytes` (rounded up to 64 KiB) that starts on a memory page, as O_DIRECT reads and
 * writes need: a WebAssembly memory's buffer is mapped on its own, where Buffer.allocUnsafe's may start
 * anywhere. Throws a RangeError when no address space is left for another memory.
 */
export function pageAligned(bytes: number): Buffer {
  return Buffer.from(new wasm.Memory({ initial: Math.ceil(bytes / WASM_PAGE) }).buffer);
}
