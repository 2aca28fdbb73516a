/**
 * Search: the toolbar's field (debounced), highlighting what is drawn (a hit inside a collapsed block
 * lights the block), the result list under the field, and going to a hit.
 */
import { h } from '../inspector';
import { groupElementId, representativeOf, search, type SearchHit } from '../viewModel';
import type { GraphContext } from './context';
import { revealGroup, revealNode } from './navigate';
import { moveHitCursor, setHits } from './state';

/** Listens to the search field (once per view: the field is reused when the page is rebuilt). */
export function wireSearch(ctx: GraphContext): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const field = ctx.dom.searchField as unknown as HTMLInputElement;
  const s = ctx.state;
  field.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => runSearch(ctx, field.value), 120);
  });
  field.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      runSearch(ctx, field.value);
      if (s.hits.length) void goToHit(ctx, s.hits[s.hitCursor]);
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (!s.hits.length) return;
      moveHitCursor(s, ev.key === 'ArrowDown' ? 1 : -1);
      paintHits(ctx);
    } else if (ev.key === 'Escape') {
      field.value = '';
      runSearch(ctx, '');
      ctx.dom.cyBox.focus();
    }
  });
}

function runSearch(ctx: GraphContext, q: string): void {
  const s = ctx.state;
  const { index, cy } = s;
  if (!index || !cy) return;
  const r = search(index, q, 200);
  setHits(s, r.hits);
  ctx.dom.searchCount.textContent = q.trim() ? `${r.total} match${r.total === 1 ? '' : 'es'}` : '';
  // Highlight what is drawn: a hit inside a collapsed block lights the block.
  cy.nodes('.match').removeClass('match');
  if (q.trim()) {
    const ids = new Set<string>();
    for (const hit of r.hits) {
      if (hit.kind === 'group') ids.add(groupElementId(hit.id));
      else {
        const id = representativeOf(index, s.expanded, hit.id);
        if (id) ids.add(id);
      }
    }
    cy.batch(() => {
      for (const id of ids) cy.getElementById(id).addClass('match');
    });
    s.matches = ids;
  } else s.matches = new Set();
  paintHits(ctx);
}

function paintHits(ctx: GraphContext): void {
  const s = ctx.state;
  const box = ctx.dom.searchResults;
  box.replaceChildren();
  box.hidden = s.hits.length === 0;
  s.hits.slice(0, 50).forEach((hit, i) => {
    const row = h('div', { className: `hit${i === s.hitCursor ? ' active' : ''}`, role: 'option', 'aria-selected': i === s.hitCursor ? 'true' : 'false' }, h('span', { className: 'hit-label' }, hit.label), h('span', { className: 'muted' }, ` ${hit.detail}`));
    row.addEventListener('click', () => {
      s.hitCursor = i;
      void goToHit(ctx, hit);
    });
    box.append(row);
  });
}

async function goToHit(ctx: GraphContext, hit: SearchHit): Promise<void> {
  ctx.dom.searchResults.hidden = true;
  if (hit.kind === 'node') await revealNode(ctx, hit.id);
  else await revealGroup(ctx, hit.id);
}
