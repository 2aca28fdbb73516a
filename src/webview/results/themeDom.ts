/**
 * Reads the chart theme from the page: the --vscode-* variables VS Code sets on the webview and the body
 * class that names the theme kind (`vscode-light`, `vscode-dark`, `vscode-high-contrast`,
 * `vscode-high-contrast-light`).
 */
import { chartThemeFromVars, THEME_VARS, type ChartTheme, type ThemeKind } from './chartTheme';
import { parseColor } from '../colors';
import { normaliseColor as normalise } from '../theme';


export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  if (c.contains('vscode-dark')) return 'dark';
  // No VS Code class (the HTML report outside VS Code): follow the page's own variables, guessing the kind
  // from the background.
  const bg = parseColor(normalise(getComputedStyle(body).getPropertyValue('--vscode-editor-background')));
  return bg && bg[0] + bg[1] + bg[2] > 3 * 150 ? 'light' : 'dark';
}

export function readChartTheme(body: HTMLElement = document.body): ChartTheme {
  const cs = getComputedStyle(body);
  const values = new Map<string, string>();
  for (const name of THEME_VARS) {
    const raw = cs.getPropertyValue(name);
    values.set(name, name === '--vscode-font-family' || name === '--vscode-font-size' ? raw.trim() : normalise(raw));
  }
  return chartThemeFromVars((n) => values.get(n) ?? '', themeKind(body));
}
