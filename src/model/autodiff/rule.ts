/** The shape of a VJP rule and the registry the core consults. */
import type { GradBuilder } from './builder';
import type { NodeProto } from './protoUtil';

export interface VjpContext {
  b: GradBuilder;
  node: NodeProto;
  /** The node's input names ('' for an omitted optional input). */
  x: string[];
  /** The node's output names. */
  y: string[];
  /** Cotangent of each output, undefined where the objective does not depend on it. */
  gy: (string | undefined)[];
  /** Whether input i needs a cotangent (it is on a path from a source). */
  needs: boolean[];
  opset: number;
  /** Cotangent of output k, zeros shaped like it when the objective does not depend on it. */
  g(k?: number): string;
}

/** Returns the cotangent of each input (undefined: none or not needed). */
export type VjpFn = (c: VjpContext) => (string | undefined)[];

export interface VjpRule {
  /** Indices of the inputs a gradient flows to (the others are indices, shapes, masks, …). */
  diff: number[] | ((node: NodeProto, opset: number) => number[]);
  vjp: VjpFn;
  /** How many leading outputs the rule differentiates (default: all); a cotangent on a later one is refused. */
  outputs?: number;
}

/** Ops whose outputs carry no gradient (integer/bool results, or derivative zero almost everywhere). */
export const NO_GRAD = new Set([
  'Shape', 'Size', 'Constant', 'ConstantOfShape', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or',
  'Xor', 'IsNaN', 'IsInf', 'ArgMax', 'ArgMin', 'NonZero', 'Floor', 'Ceil', 'Round', 'Sign', 'Range', 'EyeLike', 'RandomNormal',
  'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial', 'OneHot',
]);
