/**
 * The results panel's webview entry (bundled to dist/results.js): the view on the VS Code webview bridge.
 * The HTML report mounts the same view with a local bridge (src/webview/report).
 */
import { vscodeBridge } from '../bridge';
import type { HostToResults, ResultsToHost } from '../../shared/protocol';
import { mountResults } from './view';

mountResults(document.getElementById('app')!, vscodeBridge<ResultsToHost, HostToResults>());
