/**
 * What an op implementation sees besides its input tensors: typed attribute access with ONNX defaults, the
 * node's opset, and errors that name the node.
 */
import type { Attribute, GraphNode, TensorInfo } from '../../ir';
import { TranslatorError, type TranslatorErrorCode } from './errors';
import { int64ToInt32 } from './tensors';
import type { tf } from './tf';

/** Attribute reader; `def` is the ONNX default (absent `def` = required). */
export class Attrs {
  private readonly map: Map<string, Attribute['value']>;
  constructor(
    attributes: readonly Attribute[],
    private readonly node: Pick<GraphNode, 'id' | 'opType'>,
  ) {
    this.map = new Map(attributes.map((a) => [a.name, a.value]));
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  private get(name: string, types: string[]): Attribute['value'] | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    if (!types.includes(v.type)) {
      throw new TranslatorError('invalid-node', `attribute '${name}': expected ${types.join(' or ')}, found ${v.type}`, this.node);
    }
    return v;
  }

  private missing(name: string): never {
    throw new TranslatorError('invalid-node', `required attribute '${name}' is missing`, this.node);
  }

  int(name: string, def?: number): number {
    const v = this.get(name, ['int']);
    if (v === undefined) return def ?? this.missing(name);
    return int64ToInt32(v.value as number | string, `attribute '${name}' of node '${this.node.id}'`);
  }

  ints(name: string, def?: number[]): number[] {
    const v = this.get(name, ['ints']);
    if (v === undefined) return def ?? this.missing(name);
    return (v.value as (number | string)[]).map((x) => int64ToInt32(x, `attribute '${name}' of node '${this.node.id}'`));
  }

  float(name: string, def?: number): number {
    const v = this.get(name, ['float', 'int']);
    if (v === undefined) return def ?? this.missing(name);
    return Number(v.value);
  }

  floats(name: string, def?: number[]): number[] {
    const v = this.get(name, ['floats']);
    if (v === undefined) return def ?? this.missing(name);
    return v.value as number[];
  }

  string(name: string, def?: string): string {
    const v = this.get(name, ['string']);
    if (v === undefined) return def ?? this.missing(name);
    return v.value as string;
  }

  strings(name: string, def?: string[]): string[] {
    const v = this.get(name, ['strings']);
    if (v === undefined) return def ?? this.missing(name);
    return v.value as string[];
  }

  tensor(name: string): TensorInfo | undefined {
    const v = this.get(name, ['tensor']);
    return v?.value as TensorInfo | undefined;
  }
}

export interface OpContext {
  /** The node being run. */
  node: GraphNode;
  /** Version of the default (ai.onnx) opset the model imports. */
  opset: number;
  /** Number of outputs the node declares (omitted optional outputs count, as ''). */
  outputCount: number;
  /** Whether output `i` is consumed or fetched (lets ops skip optional outputs). */
  wantsOutput(i: number): boolean;
  /** A tensor-valued attribute, preloaded by the executor. Do not dispose; clone it to return it. */
  attrTensor(info: TensorInfo): tf.Tensor;
  /** Throws a TranslatorError naming this node. */
  fail(code: TranslatorErrorCode, detail: string): never;
}

export type OpInputs = (tf.Tensor | undefined)[];
export type OpFn = (inputs: OpInputs, attrs: Attrs, ctx: OpContext) => tf.Tensor[];

/** One translator entry plus what docs/ops.md says about it. */
export interface OpEntry {
  fn: OpFn;
  /** Opset range handled, e.g. '1–17' (first version differing semantics are implemented for). */
  opsets: string;
  /** Whether gradients flow through it (false: integer/boolean outputs or piecewise-constant ops). */
  grad: boolean;
  notes?: string;
}
