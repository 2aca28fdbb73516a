/**
 * The circuits side panel's webview entry (dist/circuits.js): mounts the panel on the VS Code webview bridge.
 * The standalone HTML report mounts the same view with its page-local bridge.
 */
import type { CircuitsToHost, HostToCircuits } from '../../shared/protocol';
import { vscodeBridge } from '../bridge';
import { mountCircuits } from './view';

mountCircuits(document.getElementById('app')!, vscodeBridge<CircuitsToHost, HostToCircuits>());
