// The Circuits panel's graph text as drawn, from the page's own cytoscape instance: the smallest label on screen
// (zoom × the label's computed font size) and how many labelled nodes lie wholly inside the graph's box. Shared
// by export.mjs (the saved LIB run after a reload) and analyses.mjs (groups, LIB, circuit from the results panel).

/** The smallest rendered label size (px) Fit must leave: issue 17's "readable" (fitView.ts READABLE_TEXT_PX). */
export const READABLE_PX = 9;

/** Measures the drawn graph in the Circuits panel frame `cv`. */
export function measureCircuitsText(cv) {
  return cv.evaluate(() => {
    const cy = window.__circuitscopeCircuits.cy;
    const zoom = cy.zoom();
    const box = cy.container().getBoundingClientRect();
    let minTextPx = Infinity;
    let labelled = 0;
    let inView = 0;
    let smallest = '';
    cy.nodes().forEach((n) => {
      const label = n.data('label');
      if (!label) return;
      labelled++;
      const px = parseFloat(n.style('font-size')) * zoom;
      if (px < minTextPx) {
        minTextPx = px;
        smallest = `${n.id()} "${label}"`;
      }
      const bb = n.renderedBoundingBox({ includeLabels: true });
      if (bb.x1 >= -0.5 && bb.y1 >= -0.5 && bb.x2 <= box.width + 0.5 && bb.y2 <= box.height + 0.5) inView++;
    });
    return { zoom, minTextPx, smallest, labelled, inView, width: Math.round(box.width), height: Math.round(box.height) };
  });
}

/**
 * Fit by the button, then by the F key on the graph, measuring after each (and as first drawn): every measure must
 * have its smallest label ≥ {@link READABLE_PX} and some labelled nodes in view. Returns the measures and the
 * failed conditions (one line each).
 */
export async function circuitsFitChecks(cv, what) {
  const out = { drawn: await measureCircuitsText(cv) };
  await cv.locator('#circuits-fit').click();
  await cv.waitForTimeout(150);
  out.fitButton = await measureCircuitsText(cv);
  // F on the graph (the panel's keyboard shortcut; press() focuses the graph's box first).
  await cv.locator('#circuits-graph').press('f');
  await cv.waitForTimeout(150);
  out.fitKey = await measureCircuitsText(cv);
  const failed = [];
  for (const [k, m] of Object.entries(out)) {
    if (!(m.minTextPx >= READABLE_PX - 0.01)) failed.push(`${what} (${k}): the smallest label ${m.smallest} is ${m.minTextPx.toFixed(1)} px on screen at zoom ${m.zoom.toFixed(3)}, under ${READABLE_PX} px`);
    if (m.inView < Math.min(3, m.labelled)) failed.push(`${what} (${k}): ${m.inView} of ${m.labelled} labelled nodes inside the ${m.width}×${m.height} graph box`);
  }
  if (Math.abs(out.fitButton.zoom - out.fitKey.zoom) > 1e-6) failed.push(`${what}: Fit by the button (zoom ${out.fitButton.zoom}) and by F (zoom ${out.fitKey.zoom}) differ`);
  return { measures: out, failed };
}
