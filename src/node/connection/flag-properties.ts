/**
 * Boolean properties kept as bits of one integer field, `_flags`: a connection object with ten
 * booleans then carries one 8-byte field instead of ten. The properties are accessors on the
 * prototype (nothing per object), which V8 inlines where the object's class is known.
 */
export function defineFlagProperties(prototype: object, bits: Readonly<Record<string, number>>): void {
  for (const [name, bit] of Object.entries(bits)) {
    Object.defineProperty(prototype, name, {
      get(this: { _flags: number }): boolean {
        return (this._flags & bit) !== 0;
      },
      set(this: { _flags: number }, on: boolean) {
        this._flags = on ? this._flags | bit : this._flags & ~bit;
      },
      configurable: true,
    });
  }
}

/**
 * Small integer properties kept in bits of the same `_flags` field: `[shift, width]` each, so a field
 * whose values fit in a few bits (a ready state, a close code) costs no slot of its own. A value is
 * stored masked to its width: the caller keeps it in range.
 */
export function defineIntegerFlagProperties(
  prototype: object,
  fields: Readonly<Record<string, readonly [shift: number, width: number]>>,
): void {
  for (const [name, [shift, width]] of Object.entries(fields)) {
    const mask = ((1 << width) - 1) << shift;
    Object.defineProperty(prototype, name, {
      get(this: { _flags: number }): number {
        return (this._flags & mask) >>> shift;
      },
      set(this: { _flags: number }, value: number) {
        this._flags = (this._flags & ~mask) | ((value << shift) & mask);
      },
      configurable: true,
    });
  }
}
