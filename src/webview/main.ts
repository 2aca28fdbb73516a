/** The model editor's webview entry: the graph view over the VS Code webview API (see graphMount.ts). */
import type { HostToWebview, WebviewToHost } from '../shared/protocol';
import { vscodeBridge } from './bridge';
import { mountGraph } from './graphMount';

mountGraph(document.getElementById('app')!, vscodeBridge<WebviewToHost, HostToWebview>());
