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
