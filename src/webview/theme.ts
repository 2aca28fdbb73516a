/**
 * Colours for the canvas/WebGL renderers, read from the --vscode-* variables VS Code sets on the webview
 * (cytoscape needs concrete colours, not CSS variables). Re-read when the theme changes (VS Code swaps the
 * body's `vscode-light` / `vscode-dark` / `vscode-high-contrast` classes).
 */
import { paletteFromVars, parseColor, type Palette } from './colors';

export * from './colors';

let probe: CanvasRenderingContext2D | null = null;

/** Any CSS colour syntax (named colours, hsl()…), normalised by the canvas parser to one parseColor understands. */
export function normaliseColor(css: string): string {
  const s = css.trim();
  if (!s || parseColor(s) || !/^[a-z#(]/i.test(s)) return s;
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return s;
  probe.fillStyle = '#000000';
  probe.fillStyle = s;
  return String(probe.fillStyle);
}

export function readPalette(root: Element = document.body): Palette {
  const cs = getComputedStyle(root);
  const body = document.body.classList;
  const kind: Palette['kind'] = body.contains('vscode-high-contrast-light')
    ? 'high-contrast-light'
    : body.contains('vscode-high-contrast')
      ? 'high-contrast'
      : body.contains('vscode-light')
        ? 'light'
        : 'dark';
  // Only colours go through the canvas parser: a font family would come back as '#000000'.
  return paletteFromVars((name) => (name.includes('font') ? cs.getPropertyValue(name).trim() : normaliseColor(cs.getPropertyValue(name))), kind);
}
