import type { TurnTrace } from '../../metrics/turn-trace.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The stages in the order a turn passes them; each bar runs from the previous stage to its own. */
const STAGES: { key: keyof TurnTrace['stages']; label: string; color: string }[] = [
  { key: 'eouDecisionMs', label: 'end of turn', color: '#9aa5b8' },
  { key: 'sttFinalMs', label: 'STT final', color: '#4caf83' },
  { key: 'llmFirstTokenMs', label: 'LLM first token', color: '#e0a526' },
  { key: 'ttsFirstAudioMs', label: 'TTS first audio', color: '#4a7fd9' },
  { key: 'firstAudioPublishedMs', label: 'audio out', color: '#8a56c9' },
];
const ROW = 18;
const LABEL_W = 110;
const WIDTH = 460;

/** One turn's trace as an SVG waterfall: time since the caller's end of speech, one bar per stage. */
export function renderWaterfall(trace: TurnTrace): SVGSVGElement {
  const present = STAGES.filter((s) => trace.stages[s.key] !== undefined);
  const total = Math.max(1, ...present.map((s) => trace.stages[s.key]!));
  const scale = (WIDTH - LABEL_W - 60) / total;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'waterfall');
  svg.setAttribute('width', String(WIDTH));
  svg.setAttribute('height', String(ROW * (present.length + 1) + 4));
  svg.dataset.turn = String(trace.turn);
  svg.append(text(4, 13, `turn ${trace.turn}${trace.interrupted ? ' (interrupted)' : ''}: ${trace.totalMs ?? '?'} ms to audio`));
  let previous = 0;
  present.forEach((stage, i) => {
    const at = trace.stages[stage.key]!;
    const from = Math.max(0, Math.min(previous, at));
    const y = ROW * (i + 1);
    svg.append(text(4, y + 13, stage.label));
    const bar = document.createElementNS(SVG, 'rect');
    bar.setAttribute('class', 'stage');
    bar.dataset.stage = stage.key;
    bar.setAttribute('x', String(LABEL_W + from * scale));
    bar.setAttribute('y', String(y + 3));
    bar.setAttribute('width', String(Math.max(2, (at - from) * scale)));
    bar.setAttribute('height', String(ROW - 6));
    bar.setAttribute('fill', stage.color);
    svg.append(bar, text(LABEL_W + at * scale + 4, y + 13, `${at} ms`));
    previous = Math.max(previous, at);
  });
  return svg;
}

function text(x: number, y: number, content: string): SVGTextElement {
  const node = document.createElementNS(SVG, 'text');
  node.setAttribute('x', String(x));
  node.setAttribute('y', String(y));
  node.textContent = content;
  return node;
}
