/**
 * Loop closure's Sim(3) pose graph: the reference's `Sim3LoopOptimizer`
 * (`da3_streaming/loop_utils/sim3loop.py` with `fastloop/solve_python.py`), float64.
 *
 * Nodes are the chunks' absolute poses T_k (chunk k → chunk 0's frame, T_0 = I, T_k = T_{k−1}∘S_k
 * where S_k maps chunk k into chunk k−1), optimised in the coordinates x_k = Log(T_k⁻¹) of the
 * Sim(3) algebra. Edges: the sequential transforms (constant C = T_{k−1}⁻¹T_k between k and k−1)
 * and the loop constraints (C = S_ab between a and b). Residual per edge
 * `r = Log(C · Exp(x_i) · Exp(x_j)⁻¹)` (7-vector, zero when consistent); cost = mean of r² over
 * all entries. Levenberg–Marquardt as the reference runs it: normal equations JᵀJ with the diagonal
 * multiplied by (1 + λ), step accepted when the cost drops (λ halves) else rejected (λ doubles),
 * λ₀ = 1e-6, at most 30 iterations, early stop when the cost is under 1e-5 after ≥ 5 iterations
 * and fell by less than 1.5× over the last five; no node is held fixed (the damping fixes the
 * gauge; the relative transforms returned do not depend on it).
 *
 * Differences: the reference differentiates with torch autograd through pypose in float32; here
 * the Jacobian is by central differences in float64 (relative error ~1e-10), and the linear
 * system is solved densely (Cholesky; 7·(chunks+1) unknowns — fine for hundreds of chunks).
 */
import { Da3Error } from '../../errors.js';
import { expUnchecked, logUnchecked } from './lie.js';
import { type Sim3, assertSim3, cloneSim3, composeUnchecked, identitySim3, invertUnchecked } from './sim3.js';

/**
 * A loop-closure constraint: `sim` maps chunk `i`'s frame into chunk `j`'s frame (the reference's
 * `(chunk_idx_a, chunk_idx_b, compute_sim3_ab(S_a, S_b))`).
 */
export interface LoopConstraint {
  readonly i: number;
  readonly j: number;
  readonly sim: Sim3;
}

/** Options of {@link optimizeSim3PoseGraph} (`Loop.SIM3_Optimizer` of the reference's config). */
export interface PoseGraphOptions {
  /** `max_iterations` (default 30). */
  maxIterations?: number;
  /** `lambda_init` (default 1e-6). */
  lambdaInit?: number;
}

/** What {@link optimizeSim3PoseGraph} returns. */
export interface PoseGraphResult {
  /** The optimised sequential transforms S_k (chunk k+1 → chunk k), as many as given. */
  readonly transforms: Sim3[];
  /** Cost (mean squared residual) at the start of each iteration, as the reference's `residual_history`. */
  readonly costHistory: number[];
  /** Cost after the last accepted step (equals the initial cost when no step was accepted). */
  readonly finalCost: number;
  /** Iterations run. */
  readonly iterations: number;
}

/**
 * The reference's `Sim3LoopOptimizer.optimize(sequential_transforms, loop_constraints)`: returns
 * the sequential transforms corrected so that the loop constraints hold as well as the chain
 * allows (least squares over all edges). Without loop constraints the input comes back unchanged
 * (copies), as in the reference.
 *
 * Throws `Da3Error`: BAD_VALUE (a loop index outside [0, transforms.length], a self-edge i = j,
 * bad options), and the Sim3 checks (BAD_SHAPE / NON_FINITE) on every transform.
 */
export function optimizeSim3PoseGraph(
  sequential: readonly Sim3[],
  loops: readonly LoopConstraint[],
  options: PoseGraphOptions = {},
): PoseGraphResult {
  const where = 'optimizeSim3PoseGraph';
  const maxIterations = options.maxIterations ?? 30;
  const lambdaInit = options.lambdaInit ?? 1e-6;
  if (!Number.isInteger(maxIterations) || maxIterations < 0) throw new Da3Error('BAD_VALUE', `${where}: maxIterations must be a non-negative integer, got ${maxIterations}`);
  if (!(lambdaInit >= 0) || !Number.isFinite(lambdaInit)) throw new Da3Error('BAD_VALUE', `${where}: lambdaInit must be a non-negative number, got ${lambdaInit}`);
  for (let k = 0; k < sequential.length; k++) assertSim3(where, `sequential[${k}]`, sequential[k]);
  const n = sequential.length + 1;
  loops.forEach((l, k) => {
    for (const [name, v] of [['i', l.i], ['j', l.j]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= n) {
        throw new Da3Error('BAD_VALUE', `${where}: loops[${k}].${name} = ${v} is not a chunk index in [0, ${n - 1}]`);
      }
    }
    if (l.i === l.j) throw new Da3Error('BAD_VALUE', `${where}: loops[${k}] joins chunk ${l.i} to itself (self-edges are not allowed)`);
    assertSim3(where, `loops[${k}].sim`, l.sim);
  });
  if (loops.length === 0) return { transforms: sequential.map(cloneSim3), costHistory: [], finalCost: 0, iterations: 0 };

  const abs = sequentialToAbsolutePoses(sequential);
  const inv = abs.map(invertUnchecked);
  // Edges: sequential (i = k, j = k−1, C = T_{k−1}⁻¹·T_k), then the loops.
  const edges: { i: number; j: number; C: Sim3 }[] = [];
  for (let k = 1; k < n; k++) edges.push({ i: k, j: k - 1, C: composeUnchecked(inv[k - 1], abs[k]) });
  for (const l of loops) edges.push({ i: l.i, j: l.j, C: l.sim });

  let x = new Float64Array(7 * n);
  for (let k = 0; k < n; k++) x.set(logUnchecked(inv[k]), 7 * k);

  let lambda = lambdaInit;
  const costHistory: number[] = [];
  let finalCost = Number.NaN;
  let iterations = 0;
  const dim = 7 * n;
  for (let itr = 0; itr < maxIterations; itr++) {
    iterations = itr + 1;
    const r0 = residuals(edges, x);
    const currentCost = meanSquare(r0);
    costHistory.push(currentCost);
    if (itr === 0) finalCost = currentCost;

    // Normal equations A = JᵀJ, b = −Jᵀr, accumulated per edge from its two 7×7 blocks.
    const A = new Float64Array(dim * dim);
    const b = new Float64Array(dim);
    edges.forEach((e, k) => {
      const Ji = edgeJacobian(e, x, 'i');
      const Jj = edgeJacobian(e, x, 'j');
      const r = r0.subarray(7 * k, 7 * k + 7);
      const blocks: [number, Float64Array][] = [
        [e.i, Ji],
        [e.j, Jj],
      ];
      for (const [p, Jp] of blocks) {
        for (let c = 0; c < 7; c++) {
          let s = 0;
          for (let row = 0; row < 7; row++) s += Jp[7 * row + c] * r[row];
          b[7 * p + c] -= s;
        }
        for (const [q, Jq] of blocks) {
          for (let c1 = 0; c1 < 7; c1++) {
            for (let c2 = 0; c2 < 7; c2++) {
              let s = 0;
              for (let row = 0; row < 7; row++) s += Jp[7 * row + c1] * Jq[7 * row + c2];
              A[(7 * p + c1) * dim + 7 * q + c2] += s;
            }
          }
        }
      }
    });
    for (let d = 0; d < dim; d++) A[d * dim + d] *= 1 + lambda;
    const delta = choleskySolve(A, b, dim);
    if (delta === null) break; // the reference stops when its solver fails

    const xTmp = x.map((v, i) => v + delta[i]);
    const newCost = meanSquare(residuals(edges, xTmp));
    if (newCost < currentCost) {
      x = xTmp;
      lambda /= 2;
      finalCost = newCost;
    } else {
      lambda *= 2;
    }
    if (currentCost < 1e-5 && itr >= 4 && costHistory.length >= 5) {
      if (costHistory[costHistory.length - 5] / costHistory[costHistory.length - 1] < 1.5) break;
    }
  }

  const optimised: Sim3[] = [];
  for (let k = 0; k < n; k++) optimised.push(invertUnchecked(expUnchecked(x.subarray(7 * k, 7 * k + 7))));
  return { transforms: absoluteToSequentialTransforms(optimised), costHistory, finalCost, iterations };
}

/**
 * The reference's `sequential_to_absolute_poses`: S₁, S₂, … → T₀ = I, T_k = T_{k−1}∘S_k (each T_k
 * maps chunk k into chunk 0's frame).
 */
export function sequentialToAbsolutePoses(sequential: readonly Sim3[]): Sim3[] {
  const out = [identitySim3()];
  sequential.forEach((s, k) => {
    assertSim3('sequentialToAbsolutePoses', `sequential[${k}]`, s);
    out.push(composeUnchecked(out[k], s));
  });
  return out;
}

/** The reference's `absolute_to_sequential_transforms`: T₀, T₁, … → S_k = T_{k−1}⁻¹∘T_k. */
export function absoluteToSequentialTransforms(absolute: readonly Sim3[]): Sim3[] {
  for (let k = 0; k < absolute.length; k++) assertSim3('absoluteToSequentialTransforms', `absolute[${k}]`, absolute[k]);
  const out: Sim3[] = [];
  for (let k = 1; k < absolute.length; k++) out.push(composeUnchecked(invertUnchecked(absolute[k - 1]), absolute[k]));
  return out;
}

// ───────────────────────────────────────── internals ─────────────────────────────────────────

function edgeResidual(C: Sim3, xi: ArrayLike<number>, xj: ArrayLike<number>): Float64Array {
  return logUnchecked(composeUnchecked(composeUnchecked(C, expUnchecked(xi)), invertUnchecked(expUnchecked(xj))));
}

function residuals(edges: readonly { i: number; j: number; C: Sim3 }[], x: Float64Array): Float64Array {
  const out = new Float64Array(7 * edges.length);
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k];
    out.set(edgeResidual(e.C, x.subarray(7 * e.i, 7 * e.i + 7), x.subarray(7 * e.j, 7 * e.j + 7)), 7 * k);
  }
  return out;
}

function meanSquare(r: Float64Array): number {
  let s = 0;
  for (const v of r) s += v * v;
  return s / r.length;
}

/** ∂r/∂x_node (7×7 row-major) by central differences; the factor not perturbed is computed once. */
function edgeJacobian(e: { i: number; j: number; C: Sim3 }, x: Float64Array, which: 'i' | 'j'): Float64Array {
  const J = new Float64Array(49);
  const v = Float64Array.from(x.subarray(7 * (which === 'i' ? e.i : e.j), 7 * (which === 'i' ? e.i : e.j) + 7));
  // r = Log(C·Exp(x_i)·Exp(x_j)⁻¹): perturbing x_i keeps Exp(x_j)⁻¹; perturbing x_j keeps C·Exp(x_i).
  const fixed = which === 'i' ? invertUnchecked(expUnchecked(x.subarray(7 * e.j, 7 * e.j + 7))) : composeUnchecked(e.C, expUnchecked(x.subarray(7 * e.i, 7 * e.i + 7)));
  const at = (p: Float64Array) =>
    which === 'i' ? logUnchecked(composeUnchecked(composeUnchecked(e.C, expUnchecked(p)), fixed)) : logUnchecked(composeUnchecked(fixed, invertUnchecked(expUnchecked(p))));
  for (let c = 0; c < 7; c++) {
    const orig = v[c];
    const h = 1e-6 * Math.max(1, Math.abs(orig));
    v[c] = orig + h;
    const rp = at(v);
    v[c] = orig - h;
    const rm = at(v);
    v[c] = orig;
    for (let row = 0; row < 7; row++) J[7 * row + c] = (rp[row] - rm[row]) / (2 * h);
  }
  return J;
}

/**
 * Solves A·x = b for symmetric positive-definite A by an envelope (skyline) Cholesky: row i's
 * factor is non-zero only from its first non-zero column on, which keeps a chain with a few loops
 * cheap. null when A is not positive definite.
 */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const first = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let f = i;
    for (let k = 0; k < i; k++) {
      if (A[i * n + k] !== 0) {
        f = k;
        break;
      }
    }
    first[i] = f;
  }
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = first[j]; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      if (first[i] > j) continue;
      let s = A[i * n + j];
      for (let k = Math.max(first[i], first[j]); k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = first[i]; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) if (first[k] <= i) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return out;
}
