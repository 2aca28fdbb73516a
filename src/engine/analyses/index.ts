/**
 * Imports every analysis module so each registers itself. One line per analysis.
 */
export { analysisInfos, analysisRunner, listAnalyses, registerAnalysis, resolveOptions, type AnalysisRunner } from './registry';
import './collapse';
import './hash';
import './redundancy';
import './lib';
import './attention';
import './circuit';
