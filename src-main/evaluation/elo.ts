/**
 * Elo ratings from pairwise judgements (e.g. an LLM judge comparing student, teacher and base).
 *
 * Sequential Elo depends on the order of the games. To make the ratings a property of the set of
 * judgements, not of their order, we (1) sort the judgements into a canonical order, then (2)
 * replay them in `rounds` seeded random permutations (Fisher-Yates driven by mulberry32), each
 * from the initial rating, and (3) average each player's final rating over the rounds. The same
 * judgements in any input order with the same seed give identical ratings.
 */

import { mulberry32, shuffled } from '../questions/prng';

export interface PairwiseJudgement {
  a: string;
  b: string;
  winner: 'a' | 'b' | 'tie';
}

export interface EloOptions {
  /** Update step (default 32). */
  k?: number;
  /** Rating every player starts from (default 1000). */
  initial?: number;
  /** How many seeded permutations are averaged (default 200). */
  rounds?: number;
  seed?: number;
  /** Players to include even when they played no game (they keep the initial rating). */
  players?: readonly string[];
}

const DEFAULT_K = 32;
const DEFAULT_INITIAL = 1000;
const DEFAULT_ROUNDS = 200;
/** Elo's logistic scale: a 400-point gap means 10:1 expected odds. */
const ELO_SCALE = 400;

function compareJudgements(p: PairwiseJudgement, q: PairwiseJudgement): number {
  const kp = `${p.a}\u0000${p.b}\u0000${p.winner}`;
  const kq = `${q.a}\u0000${q.b}\u0000${q.winner}`;
  return kp < kq ? -1 : kp > kq ? 1 : 0;
}

function playOnce(
  games: readonly PairwiseJudgement[],
  order: readonly number[],
  players: readonly string[],
  k: number,
  initial: number,
): Map<string, number> {
  const r = new Map<string, number>(players.map((p) => [p, initial]));
  for (const idx of order) {
    const g = games[idx] as PairwiseJudgement;
    const ra = r.get(g.a) as number;
    const rb = r.get(g.b) as number;
    const expectedA = 1 / (1 + 10 ** ((rb - ra) / ELO_SCALE));
    const scoreA = g.winner === 'a' ? 1 : g.winner === 'b' ? 0 : 0.5;
    const delta = k * (scoreA - expectedA);
    r.set(g.a, ra + delta);
    r.set(g.b, rb - delta);
  }
  return r;
}

/** Order-independent Elo ratings (see the module comment); players sorted by name in the result. */
export function eloRatings(
  judgements: readonly PairwiseJudgement[],
  options: EloOptions = {},
): Record<string, number> {
  const k = options.k ?? DEFAULT_K;
  const initial = options.initial ?? DEFAULT_INITIAL;
  const rounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
  const games = judgements.filter((g) => g.a !== g.b).sort(compareJudgements);
  const players = [...new Set([...(options.players ?? []), ...games.flatMap((g) => [g.a, g.b])])].sort();
  const sums = new Map<string, number>(players.map((p) => [p, 0]));
  const rand = mulberry32(options.seed ?? 0);
  let order = games.map((_, i) => i);
  for (let round = 0; round < rounds; round++) {
    // Each round permutes the previous round's order (same draws as an in-place shuffle).
    order = shuffled(order, rand);
    for (const [p, v] of playOnce(games, order, players, k, initial))
      sums.set(p, (sums.get(p) as number) + v);
  }
  const out: Record<string, number> = {};
  for (const p of players) out[p] = (sums.get(p) as number) / rounds;
  return out;
}
