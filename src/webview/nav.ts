/** Keyboard navigation over the drawn graph: pure geometry, no DOM. */

export interface NavPoint {
  id: string;
  x: number;
  y: number;
}

export type NavDirection = 'up' | 'down' | 'left' | 'right';

/**
 * The next element from `from` in a direction. Up/down prefer graph neighbours (predecessors/successors),
 * the one closest horizontally; left/right and the fallback pick the nearest point in that half-plane,
 * penalising the off-axis distance so that left/right stay within a layer.
 */
export function nextInDirection(from: NavPoint, dir: NavDirection, neighbours: { up: NavPoint[]; down: NavPoint[] }, all: readonly NavPoint[]): string | undefined {
  if (dir === 'up' || dir === 'down') {
    const list = dir === 'up' ? neighbours.up : neighbours.down;
    if (list.length) {
      let best = list[0];
      for (const p of list) if (Math.abs(p.x - from.x) < Math.abs(best.x - from.x)) best = p;
      return best.id;
    }
  }
  let best: string | undefined;
  let bestScore = Infinity;
  for (const p of all) {
    if (p.id === from.id) continue;
    const dx = p.x - from.x;
    const dy = p.y - from.y;
    let along: number;
    let across: number;
    switch (dir) {
      case 'up':
        along = -dy;
        across = dx;
        break;
      case 'down':
        along = dy;
        across = dx;
        break;
      case 'left':
        along = -dx;
        across = dy;
        break;
      case 'right':
        along = dx;
        across = dy;
        break;
    }
    if (along <= 0.5) continue;
    const score = along + 3 * Math.abs(across);
    if (score < bestScore) {
      bestScore = score;
      best = p.id;
    }
  }
  return best;
}
