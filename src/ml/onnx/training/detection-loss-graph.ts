import type { OnnxGraphBuilder } from '../graph-builder.ts';
import { reduceSum, scalar } from './graph-ops.ts';

/**
 * The detector loss of src/ml/detection/loss.ts as ONNX nodes, with its gradient written out by hand,
 * on raw outputs p [N, A, 5 + C] and targets y [N, A, 6 + C] (assign.ts layout). Same maths and the same
 * tie rules as tfjs's kernels (maximum passes the gradient to its first input on ties, minimum too,
 * relu only above 0), so loss and gradients equal tfjs's to float rounding.
 *
 * With p = sigmoid(x), P = max(1, positives), W = max(1e-6, sum of pos * centerness target):
 *   cls  = sum alpha_t (1 - p_t)^gamma (softplus(x) - y x) / P
 *          d/dx = alpha_t [(1 - p_t)^gamma (p - y) - gamma (1 - p_t)^(gamma - 1) (2y - 1) p (1 - p) ce] / P
 *   ctr  = sum pos (softplus(z) - t z) / P,            d/dz = pos (sigmoid(z) - t) / P
 *   box  = bw sum w (1 - GIoU) / W, w = pos t,         d/dGIoU = -bw w / W
 *   GIoU = I/U - 1 + U/E: dGIoU = dI (1/U + I/U^2 - 1/E) + dAp (1/E - I/U^2) - dE U/E^2 (U = Ap + Ag - I)
 * and each distance d_k = exp(raw_k) stride gives d raw_k = d d_k * d_k.
 */
export interface DetectionLossGraph {
  alpha: number;
  gamma: number;
  boxWeight: number;
  classes: number;
  /** Anchor point centres and strides [A] (assign.ts order). */
  cx: Float32Array;
  cy: Float32Array;
  stride: Float32Array;
}

export function emitDetectionLoss(g: OnnxGraphBuilder, o: DetectionLossGraph, p: string, y: string): { loss: string; dp: string } {
  const b = 'det_loss';
  const A = o.cx.length;
  const c = (v: number, name = 'c') => scalar(g, v, `${b}/${name}`);
  const one = c(1, 'one');
  const slice = (x: string, start: number, end: number, name: string) => g.node('Slice', [x, g.int64s(`${b}/${name}/s`, [start]), g.int64s(`${b}/${name}/e`, [end]), g.int64s(`${b}/${name}/ax`, [2])], `${b}/${name}`);
  const mul = (x: string, z: string, name: string) => g.node('Mul', [x, z], `${b}/${name}`);
  const add = (x: string, z: string, name: string) => g.node('Add', [x, z], `${b}/${name}`);
  const sub = (x: string, z: string, name: string) => g.node('Sub', [x, z], `${b}/${name}`);
  const div = (x: string, z: string, name: string) => g.node('Div', [x, z], `${b}/${name}`);
  const mask = (op: string, x: string, z: string, name: string) => g.node('Cast', [g.node(op, [x, z], `${b}/${name}_b`)], `${b}/${name}`, [{ name: 'to', int: 1 }]);
  const total = (x: string, name: string) => reduceSum(g, x, [0, 1, 2], false, `${b}/${name}`);
  const squeeze = (x: string, name: string) => g.node('Squeeze', [x, g.int64s(`${b}/${name}/axes`, [2])], `${b}/${name}`);
  const unsqueeze = (x: string, name: string) => g.node('Unsqueeze', [x, g.int64s(`${b}/${name}/axes`, [2])], `${b}/${name}`);
  const sum2 = (x: string, name: string) => reduceSum(g, x, [0, 1], false, `${b}/${name}`);

  const x = slice(p, 5, 5 + o.classes, 'logits');
  const z = squeeze(slice(p, 4, 5, 'ctr_logit3'), 'ctr_logit');
  const reg = slice(p, 0, 4, 'reg');
  const yc = slice(y, 6, 6 + o.classes, 'y_cls');
  const pos = squeeze(slice(y, 4, 5, 'pos3'), 'pos');
  const t = squeeze(slice(y, 5, 6, 'ctr_t3'), 'ctr_t');
  const invP = g.node('Reciprocal', [g.node('Max', [sum2(pos, 'npos'), one], `${b}/P`)], `${b}/inv_P`);

  // classification: sigmoid focal loss
  const prob = g.node('Sigmoid', [x], `${b}/p`);
  const ce = sub(g.node('Softplus', [x], `${b}/softplus_x`), mul(yc, x, 'y*x'), 'ce');
  const oneMinusY = sub(one, yc, '1-y');
  const oneMinusP = sub(one, prob, '1-p');
  const pT = add(mul(prob, yc, 'p*y'), mul(oneMinusP, oneMinusY, '(1-p)(1-y)'), 'p_t');
  const alphaT = add(mul(yc, c(o.alpha, 'alpha'), 'y*a'), mul(oneMinusY, c(1 - o.alpha, '1-alpha'), '(1-y)(1-a)'), 'alpha_t');
  const q = sub(one, pT, '1-p_t');
  const focusing = g.node('Pow', [q, c(o.gamma, 'gamma')], `${b}/q^gamma`);
  const cls = mul(total(mul(alphaT, mul(focusing, ce, 'q^g*ce'), 'fl'), 'cls_sum'), invP, 'cls');
  let dFocal = mul(focusing, sub(prob, yc, 'p-y'), 'q^g*(p-y)');
  if (o.gamma !== 0) {
    const qSafe = o.gamma < 1 ? g.node('Max', [q, c(1e-12, 'tiny')], `${b}/q_safe`) : q;
    const qPow = g.node('Pow', [qSafe, c(o.gamma - 1, 'gamma-1')], `${b}/q^(g-1)`);
    const dpT = mul(sub(mul(yc, c(2, 'two'), '2y'), one, '2y-1'), mul(prob, oneMinusP, 'p(1-p)'), 'dp_t');
    dFocal = sub(dFocal, mul(mul(c(o.gamma, 'gamma_f'), qPow, 'g*q^(g-1)'), mul(dpT, ce, 'dp_t*ce'), 'focus_term'), 'dfl_unit');
  }
  const dx = mul(mul(alphaT, dFocal, 'dfl'), invP, 'dx');

  // centerness: BCE with logits on positives
  const ctrTerm = mul(pos, sub(g.node('Softplus', [z], `${b}/softplus_z`), mul(t, z, 't*z'), 'ctr_bce'), 'ctr_masked');
  const ctr = mul(sum2(ctrTerm, 'ctr_sum'), invP, 'ctr');
  const dz = mul(mul(pos, sub(g.node('Sigmoid', [z], `${b}/sig_z`), t, 'sig_z-t'), 'dz_unit'), invP, 'dz');

  // box: GIoU of exp(raw) * stride distances around each point against the target box
  const anchors = (data: Float32Array, name: string) => g.floats(`${b}/${name}`, [1, A], data);
  const cx = anchors(o.cx, 'cx'), cy = anchors(o.cy, 'cy');
  const dist = mul(g.node('Exp', [reg], `${b}/exp_reg`), g.floats(`${b}/stride`, [1, A, 1], o.stride), 'dist');
  const [l, tp, r, bt] = [0, 1, 2, 3].map((k) => squeeze(slice(dist, k, k + 1, `d${k}3`), `d${k}`));
  const [gx0, gy0, gx1, gy1] = [0, 1, 2, 3].map((k) => squeeze(slice(y, k, k + 1, `g${k}3`), `g${k}`));
  const px0 = sub(cx, l, 'px0'), py0 = sub(cy, tp, 'py0'), px1 = add(cx, r, 'px1'), py1 = add(cy, bt, 'py1');
  const wP = add(l, r, 'wp'), hP = add(tp, bt, 'hp');
  const areaP = mul(wP, hP, 'area_p');
  const areaG = mul(sub(gx1, gx0, 'wg'), sub(gy1, gy0, 'hg'), 'area_g');
  const iwRaw = sub(g.node('Min', [px1, gx1], `${b}/ix1`), g.node('Max', [px0, gx0], `${b}/ix0`), 'iw_raw');
  const ihRaw = sub(g.node('Min', [py1, gy1], `${b}/iy1`), g.node('Max', [py0, gy0], `${b}/iy0`), 'ih_raw');
  const iw = g.node('Relu', [iwRaw], `${b}/iw`), ih = g.node('Relu', [ihRaw], `${b}/ih`);
  const inter = mul(iw, ih, 'inter');
  const union = add(sub(add(areaP, areaG, 'ap+ag'), inter, 'ap+ag-i'), c(1e-7, 'eps_u'), 'union');
  const ew = sub(g.node('Max', [px1, gx1], `${b}/ex1`), g.node('Min', [px0, gx0], `${b}/ex0`), 'ew');
  const eh = sub(g.node('Max', [py1, gy1], `${b}/ey1`), g.node('Min', [py0, gy0], `${b}/ey0`), 'eh');
  const enclose = add(mul(ew, eh, 'ew*eh'), c(1e-7, 'eps_e'), 'enclose');
  const giou = add(sub(div(inter, union, 'iou'), one, 'iou-1'), div(union, enclose, 'u/e'), 'giou');
  const w = mul(pos, t, 'w');
  const invW = g.node('Reciprocal', [g.node('Max', [sum2(w, 'w_sum'), c(1e-6, 'w_min')], `${b}/W`)], `${b}/inv_W`);
  const bw = c(o.boxWeight, 'box_weight');
  const box = mul(mul(sum2(mul(w, sub(one, giou, '1-giou'), 'w(1-giou)'), 'box_sum'), invW, 'box_mean'), bw, 'box');
  const dGiou = g.node('Neg', [mul(mul(w, invW, 'w/W'), bw, 'bw*w/W')], `${b}/dgiou`);
  const invU = g.node('Reciprocal', [union], `${b}/inv_u`);
  const invE = g.node('Reciprocal', [enclose], `${b}/inv_e`);
  const iOverU2 = mul(inter, mul(invU, invU, 'inv_u2'), 'i/u2');
  const kI = mul(sub(add(invU, iOverU2, '1/u+i/u2'), invE, 'kI_raw'), dGiou, 'kI');
  const kA = mul(sub(invE, iOverU2, 'kA_raw'), dGiou, 'kA');
  const kE = g.node('Neg', [mul(mul(union, mul(invE, invE, 'inv_e2'), 'u/e2'), dGiou, 'kE_pos')], `${b}/kE`);
  const iwOn = mask('Greater', iwRaw, c(0, 'zero_w'), 'iw_on'), ihOn = mask('Greater', ihRaw, c(0, 'zero_h'), 'ih_on');
  // d/d distance per side: (inter, area, enclose) partials, tfjs's tie rules (max: first input on >=, min: first input on <=)
  const side = (name: string, iPart: string, aPart: string, ePart: string) => add(add(mul(kI, iPart, `${name}_i`), mul(kA, aPart, `${name}_a`), `${name}_ia`), mul(kE, ePart, `${name}_e`), `d_${name}`);
  const dl = side('l', mul(ih, mul(iwOn, mask('GreaterOrEqual', px0, gx0, 'l_in'), 'l_in_on'), 'i_l'), hP, mul(eh, mask('LessOrEqual', px0, gx0, 'l_out'), 'e_l'));
  const dr = side('r', mul(ih, mul(iwOn, mask('LessOrEqual', px1, gx1, 'r_in'), 'r_in_on'), 'i_r'), hP, mul(eh, mask('GreaterOrEqual', px1, gx1, 'r_out'), 'e_r'));
  const dt = side('t', mul(iw, mul(ihOn, mask('GreaterOrEqual', py0, gy0, 't_in'), 't_in_on'), 'i_t'), wP, mul(ew, mask('LessOrEqual', py0, gy0, 't_out'), 'e_t'));
  const db = side('b', mul(iw, mul(ihOn, mask('LessOrEqual', py1, gy1, 'b_in'), 'b_in_on'), 'i_b'), wP, mul(ew, mask('GreaterOrEqual', py1, gy1, 'b_out'), 'e_b'));
  const dDist = g.node('Concat', [dl, dt, dr, db].map((d, k) => unsqueeze(d, `dd${k}`)), `${b}/d_dist`, [{ name: 'axis', int: 2 }]);
  const dReg = mul(dDist, dist, 'd_reg');

  const loss = g.node('Sum', [cls, box, ctr], 'loss');
  const dp = g.node('Concat', [dReg, unsqueeze(dz, 'dz3'), dx], `${b}/dp`, [{ name: 'axis', int: 2 }]);
  return { loss, dp };
}
