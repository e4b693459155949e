import { UnsafePickleError, WeightFormatError } from './errors.js';
import type { WeightDtype } from './types.js';

/**
 * A restricted unpickler for torch state dicts. It interprets only the opcodes torch.save
 * emits for a dict of tensors and resolves only an allow-list of globals to inert tokens;
 * nothing from the file is ever called or imported. Anything else is refused by name.
 */

/** Storage reference produced by a persistent id `('storage', <StorageType>, key, location, numel)`. */
export interface PickledStorage {
  kind: 'storage';
  dtype: WeightDtype;
  key: string;
  numel: number;
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it. */
export interface PickledTensor {
  kind: 'tensor';
  storage: PickledStorage;
  offset: number;
  shape: number[];
  stride: number[];
}

type AllowedGlobal =
  | 'collections.OrderedDict'
  | 'torch._utils._rebuild_tensor_v2'
  | 'torch._utils._rebuild_parameter'
  | 'torch.FloatStorage'
  | 'torch.HalfStorage'
  | 'torch.BFloat16Storage'
  | 'torch.LongStorage';

interface GlobalToken {
  kind: 'global';
  name: AllowedGlobal;
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | { kind: 'tuple'; items: PickleValue[] }
  | { kind: 'dict'; map: Map<string, PickleValue> }
  | GlobalToken
  | PickledStorage
  | PickledTensor;

const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
};

const ALLOWED_GLOBALS: ReadonlySet<string> = new Set<AllowedGlobal>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.FloatStorage',
  'torch.HalfStorage',
  'torch.BFloat16Storage',
  'torch.LongStorage',
]);

/** Memo indices above this are refused: a state dict of thousands of tensors uses a few tens of thousands. */
const MAX_MEMO_INDEX = 1 << 24;

/**
 * Work and memory bounds (issue 18). A deflated data.pkl of a few hundred kilobytes can expand
 * to hundreds of millions of opcodes, each allocating (NONE pushes, EMPTY_DICT maps). A real
 * state dict needs about 30 opcodes, 6 containers and a stack a few thousand deep per tensor, so
 * these allow over 100,000 tensors while keeping a hostile pickle to a few hundred MB and seconds.
 */
export const PICKLE_LIMITS = {
  /** Opcodes executed. */
  opcodes: 20_000_000,
  /** Values on the stack at once (torch.save batches SETITEMS by 1000). */
  stack: 1_000_000,
  /** Dicts, lists and tuples created. */
  containers: 1_000_000,
  /** Entries held by all lists, tuples and dicts together. */
  entries: 10_000_000,
} as const;

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE', 0x28: 'MARK',
  0x58: 'BINUNICODE', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE',
  0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x51: 'BINPERSID', 0x74: 'TUPLE',
  0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x8a: 'LONG1',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4e: 'NONE', 0x52: 'REDUCE', 0x73: 'SETITEM', 0x75: 'SETITEMS', 0x62: 'BUILD',
  0x47: 'BINFLOAT', 0x61: 'APPEND', 0x65: 'APPENDS', 0x30: 'POP',
  // Named only so that refusals are readable:
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x49: 'INT', 0x4c: 'LONG', 0x53: 'STRING', 0x56: 'UNICODE',
  0x70: 'PUT', 0x67: 'GET', 0x64: 'DICT', 0x6c: 'LIST', 0x50: 'PERSID', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x8b: 'LONG4', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x90: 'EMPTY_SET', 0x91: 'ADDITEMS', 0x8f: 'FROZENSET',
};

function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return v.kind === 'global' ? v.name : v.kind;
  return typeof v;
}

class Unpickler {
  private pos = 0;
  private readonly stack: PickleValue[] = [];
  /** Stack heights at each open MARK (Python keeps the same 'metastack'). */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;
  private containers = 0;
  private entries = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly filePath: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(problem: string): never {
    throw new WeightFormatError(this.filePath, `pickle at byte ${this.pos}: ${problem}; the checkpoint is corrupt or not a tensor state dict`);
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.byteLength) this.fail(`needs ${n} more bytes but the pickle ends`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)]!;
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  private u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(this.bytes.byteLength)) this.fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  }
  private utf8(n: number): string {
    const at = this.need(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(at, at + n));
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 256) this.fail('GLOBAL name is not terminated');
    const s = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private base(): number {
    return this.marks.length ? this.marks[this.marks.length - 1]! : 0;
  }
  private pop(): PickleValue {
    if (this.stack.length <= this.base()) this.fail('stack underflow');
    return this.stack.pop() as PickleValue;
  }
  private top(): PickleValue {
    if (this.stack.length <= this.base()) this.fail('stack underflow');
    return this.stack[this.stack.length - 1] as PickleValue;
  }
  private popToMark(): PickleValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('no MARK to pop to');
    return this.stack.splice(m);
  }

  private resolveGlobal(module: string, name: string): GlobalToken {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      throw new UnsafePickleError(
        this.filePath,
        `pickle refers to the global ${full}, which a tensor state dict never needs; refusing to load it (only plain torch.save state dicts are supported)`,
      );
    }
    return { kind: 'global', name: full as AllowedGlobal };
  }

  private int(v: PickleValue, what: string): number {
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return this.fail(`${what} is ${describe(v)}, not an integer`);
  }
  private tuple(v: PickleValue, what: string): PickleValue[] {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'tuple') return v.items;
    return this.fail(`${what} is ${describe(v)}, not a tuple`);
  }

  private persistentLoad(pid: PickleValue): PickledStorage {
    const t = this.tuple(pid, 'persistent id');
    if (t.length !== 5 || t[0] !== 'storage') this.fail('persistent id is not a torch storage reference');
    const type = t[1]!;
    if (typeof type !== 'object' || type === null || Array.isArray(type) || type.kind !== 'global') this.fail('storage type is not a storage class');
    const dtype = STORAGE_DTYPES[type.name];
    if (!dtype) this.fail(`${type.name} is not a storage class`);
    const key = t[2];
    if (typeof key !== 'string') this.fail('storage key is not a string');
    const numel = this.int(t[4]!, 'storage size');
    if (numel < 0) this.fail('storage size is negative');
    return { kind: 'storage', dtype, key, numel };
  }

  private reduce(fn: PickleValue, argsValue: PickleValue): PickleValue {
    const args = this.tuple(argsValue, 'REDUCE arguments');
    if (typeof fn !== 'object' || fn === null || Array.isArray(fn) || fn.kind !== 'global') this.fail(`REDUCE on ${describe(fn)}`);
    switch (fn.name) {
      case 'collections.OrderedDict': {
        const map = new Map<string, PickleValue>();
        if (args.length > 0) this.fail('OrderedDict called with arguments');
        return { kind: 'dict', map };
      }
      case 'torch._utils._rebuild_tensor_v2': {
        if (args.length < 6 || args.length > 7) this.fail(`_rebuild_tensor_v2 got ${args.length} arguments`);
        const storage = args[0]!;
        if (typeof storage !== 'object' || storage === null || Array.isArray(storage) || storage.kind !== 'storage') {
          this.fail('_rebuild_tensor_v2 without a storage');
        }
        const offset = this.int(args[1]!, 'storage offset');
        const shape = this.tuple(args[2]!, 'tensor size').map((d) => this.int(d, 'dimension'));
        const stride = this.tuple(args[3]!, 'tensor stride').map((d) => this.int(d, 'stride'));
        if (shape.length !== stride.length) this.fail('tensor size and stride have different ranks');
        return { kind: 'tensor', storage, offset, shape, stride };
      }
      case 'torch._utils._rebuild_parameter': {
        // (data, requires_grad, backward_hooks): a Parameter is its data for our purposes.
        const data = args[0];
        if (typeof data !== 'object' || data === null || Array.isArray(data) || data.kind !== 'tensor') this.fail('_rebuild_parameter without a tensor');
        return data;
      }
      default:
        return this.fail(`${fn.name} cannot be called`);
    }
  }

  private setItems(target: PickleValue, items: PickleValue[]): void {
    if (typeof target !== 'object' || target === null || Array.isArray(target) || target.kind !== 'dict') this.fail(`SETITEM on ${describe(target)}`);
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of values');
    this.grow(items.length / 2);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (typeof k !== 'string') this.fail(`dict key is ${describe(k)}, not a string`);
      target.map.set(k, items[i + 1]!);
    }
  }

  /** Refuse a pickle past the work and memory bounds (PICKLE_LIMITS), with the typed error. */
  private overLimit(what: string, limit: number): never {
    return this.fail(`${what} exceeds the unpickler's limit of ${limit} (a state dict needs far fewer; the file is crafted or corrupt)`);
  }

  /** Count `n` new container entries (and one container when `container`). */
  private grow(n: number, container = false): void {
    if (container && ++this.containers > PICKLE_LIMITS.containers) this.overLimit('the number of dicts, lists and tuples', PICKLE_LIMITS.containers);
    this.entries += n;
    if (this.entries > PICKLE_LIMITS.entries) this.overLimit('the number of container entries', PICKLE_LIMITS.entries);
  }

  run(): PickleValue {
    // Every opcode consumes at least one byte, so the loop ends within bytes.length steps; the
    // limits below also bound work and memory for a small compressed file that expands a lot.
    let opcodes = 0;
    while (this.pos < this.bytes.byteLength) {
      if (++opcodes > PICKLE_LIMITS.opcodes) this.overLimit('the number of opcodes', PICKLE_LIMITS.opcodes);
      if (this.stack.length > PICKLE_LIMITS.stack) this.overLimit('the stack depth', PICKLE_LIMITS.stack);
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v < 2 || v > 5) this.fail(`pickle protocol ${v} is not supported`);
          break;
        }
        case 0x95: // FRAME: a length hint only
          this.need(8);
          break;
        case 0x2e: { // STOP
          const result = this.pop();
          return result;
        }
        case 0x7d: this.grow(0, true); this.stack.push({ kind: 'dict', map: new Map() }); break; // EMPTY_DICT
        case 0x5d: this.grow(0, true); this.stack.push([]); break; // EMPTY_LIST
        case 0x29: this.grow(0, true); this.stack.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x58: this.stack.push(this.utf8(this.u32())); break; // BINUNICODE
        case 0x8c: this.stack.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.stack.push(this.utf8(this.u64())); break; // BINUNICODE8
        case 0x71: this.put(this.u8()); break; // BINPUT
        case 0x72: this.put(this.u32()); break; // LONG_BINPUT
        case 0x94: this.put(this.memo.size); break; // MEMOIZE
        case 0x68: this.get(this.u8()); break; // BINGET
        case 0x6a: this.get(this.u32()); break; // LONG_BINGET
        case 0x63: { // GLOBAL
          const module = this.line();
          const name = this.line();
          this.stack.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.stack.push(this.resolveGlobal(module, name));
          break;
        }
        case 0x51: this.stack.push(this.persistentLoad(this.pop())); break; // BINPERSID
        case 0x74: { // TUPLE
          const items = this.popToMark();
          this.grow(items.length, true);
          this.stack.push({ kind: 'tuple', items });
          break;
        }
        case 0x85: this.grow(1, true); this.stack.push({ kind: 'tuple', items: [this.pop()] }); break; // TUPLE1
        case 0x86: { // TUPLE2
          const b = this.pop();
          const a = this.pop();
          this.grow(2, true);
          this.stack.push({ kind: 'tuple', items: [a, b] });
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.grow(3, true);
          this.stack.push({ kind: 'tuple', items: [a, b, c] });
          break;
        }
        case 0x4a: this.stack.push(this.i32()); break; // BININT
        case 0x4b: this.stack.push(this.u8()); break; // BININT1
        case 0x4d: this.stack.push(this.u16()); break; // BININT2
        case 0x8a: { // LONG1: little-endian two's complement
          const n = this.u8();
          if (n > 8) this.fail(`LONG1 of ${n} bytes is larger than any tensor size`);
          const start = this.need(n);
          let v = 0n;
          for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[start + i]!);
          if (n > 0 && this.bytes[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
          this.stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
          break;
        }
        case 0x88: this.stack.push(true); break; // NEWTRUE
        case 0x89: this.stack.push(false); break; // NEWFALSE
        case 0x4e: this.stack.push(null); break; // NONE
        case 0x47: this.stack.push(this.view.getFloat64(this.need(8), false)); break; // BINFLOAT (big-endian)
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.stack.push(this.reduce(fn, args));
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popToMark();
          this.setItems(this.top(), items);
          break;
        }
        case 0x62: { // BUILD: state on the OrderedDict (its _metadata) carries nothing we need
          const state = this.pop();
          const target = this.top();
          if (typeof target !== 'object' || target === null || Array.isArray(target) || target.kind !== 'dict') {
            this.fail(`BUILD on ${describe(target)}`);
          }
          void state;
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop();
          const list = this.top();
          if (!Array.isArray(list)) this.fail(`APPEND on ${describe(list)}`);
          this.grow(1);
          list.push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popToMark();
          const list = this.top();
          if (!Array.isArray(list)) this.fail(`APPENDS on ${describe(list)}`);
          this.grow(items.length);
          for (const v of items) list.push(v);
          break;
        }
        case 0x30: this.pop(); break; // POP
        default: {
          this.pos = at;
          const name = OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
          throw new UnsafePickleError(
            this.filePath,
            `pickle at byte ${at} uses opcode ${name}, which a tensor state dict never needs; refusing to load it`,
          );
        }
      }
    }
    return this.fail('pickle ends without STOP');
  }

  private put(index: number): void {
    if (index > MAX_MEMO_INDEX) this.fail(`memo index ${index} is implausibly large`);
    this.memo.set(index, this.top());
  }
  private get(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) this.fail(`memo entry ${index} was never stored`);
    this.stack.push(v);
  }
}

/** Run the restricted unpickler; the result is whatever the pickle's STOP returned. */
export function unpickle(bytes: Uint8Array, filePath: string): PickleValue {
  return new Unpickler(bytes, filePath).run();
}

/** Unpickle a torch state dict: a (possibly Ordered) dict from names to tensors. */
export function unpickleStateDict(bytes: Uint8Array, filePath: string): Map<string, PickledTensor> {
  const root = unpickle(bytes, filePath);
  if (typeof root !== 'object' || root === null || Array.isArray(root) || root.kind !== 'dict') {
    throw new WeightFormatError(filePath, `pickle holds a ${describe(root)}, not a state dict of tensors`);
  }
  const out = new Map<string, PickledTensor>();
  for (const [k, v] of root.map) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v.kind !== 'tensor') {
      throw new WeightFormatError(filePath, `state dict entry "${k}" is a ${describe(v)}, not a tensor; only plain state dicts are supported`);
    }
    out.set(k, v);
  }
  return out;
}
