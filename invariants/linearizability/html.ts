// `check-history --html`: one self-contained HTML file that draws the checked history as
// Porcupine's visualiser does: a row per client, a bar per operation from its call to its
// return (open operations run to the end, hatched), and for a history that is not
// linearizable the longest linearizable prefix marked in order, with the state after each
// step, and the operation that cannot be placed in red. No network, no external script.
import { describeOperation } from './checker.ts';
import { type CheckResult, isUnknown, type Model, type Operation } from './types.ts';

interface Bar {
  client: number;
  /** Column of the call and of the return on the drawn time axis (distinct times, ranked). */
  from: number;
  to: number;
  open: boolean;
  text: string;
  /** Position in the longest prefix (1-based), or 0 when not in it. */
  order: number;
  /** The model state after this operation, for operations in the prefix. */
  after: string;
  blocked: boolean;
  inPart: boolean;
}

export interface HistoryPage {
  title: string;
  verdict: CheckResult['verdict'];
  summary: string;
  partition: string;
  columns: number;
  clients: number[];
  bars: Bar[];
}

export function historyPage<S, I, O>(
  title: string,
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  result: CheckResult,
): HistoryPage {
  const times = new Set<number>();
  for (const op of operations) {
    times.add(op.callTime);
    if (!isUnknown(op.output)) {
      times.add(op.returnTime);
    }
  }
  const ranked = [...times].sort((a, b) => a - b);
  const column = new Map(ranked.map((time, i) => [time, i]));
  const end = ranked.length;
  const orderOf = new Map<number, number>();
  const afterOf = new Map<number, string>();
  let blocked = -1;
  let inPart: Set<number> | undefined;
  let partition = '';
  let summary: string;
  if (result.verdict === 'not-linearizable') {
    const { explanation } = result;
    blocked = explanation.blockedOperation;
    partition = explanation.partition;
    // Replay the prefix through the model for the state after each step (the tooltips).
    let state = model.init();
    explanation.longestPrefix.forEach((index, i) => {
      const op = operations[index]!;
      orderOf.set(index, i + 1);
      state = model.step(state, op.input, op.output).state;
      afterOf.set(index, model.describeState?.(state) ?? JSON.stringify(state));
    });
    if (partition !== '') {
      inPart = partOf(model, operations, blocked);
    }
    summary = explanation.message;
  } else if (result.verdict === 'linearizable') {
    summary = `Linearizable: ${operations.length} operations in ${result.partitions} part(s).`;
  } else {
    summary = `Unknown: ${result.reason}; no verdict was guessed.`;
  }
  const bars = operations.map((op, index) => {
    const open = isUnknown(op.output);
    return {
      client: op.clientId,
      from: column.get(op.callTime)!,
      to: open ? end : column.get(op.returnTime)!,
      open,
      text: describeOperation(model, op),
      order: orderOf.get(index) ?? 0,
      after: afterOf.get(index) ?? '',
      blocked: index === blocked,
      inPart: inPart === undefined || inPart.has(index),
    };
  });
  const clients = [...new Set(operations.map((op) => op.clientId))].sort((a, b) => a - b);
  return {
    title,
    verdict: result.verdict,
    summary,
    partition,
    columns: end + 1,
    clients,
    bars,
  };
}

/** The operations of the part the blocked operation belongs to. */
function partOf<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  blocked: number,
): Set<number> {
  const parts = model.partition?.(operations) ?? [{ label: '', operations: [...operations] }];
  const target = operations[blocked];
  const part = parts.find((p) => p.operations.includes(target!));
  const members = new Set(part?.operations ?? operations);
  const indices = new Set<number>();
  operations.forEach((op, i) => {
    if (members.has(op)) {
      indices.add(i);
    }
  });
  return indices;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px;margin:0 0 6px}
.summary{max-width:1100px;margin:0 0 10px;line-height:1.4}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle;border:1px solid #555}
#scroll{overflow:auto;border:1px solid #ccc;max-height:80vh}
svg text{font-size:11px}
.bar{stroke:#555;stroke-width:1}
.bar.plain{fill:#e4e4e4}.bar.prefix{fill:#8fd18f}.bar.blocked{fill:#f08080;stroke:#b00;stroke-width:2}
.bar.other{fill:#f4f4f4;stroke:#bbb}.bar.open{fill-opacity:.55;stroke-dasharray:4 2}
#tip{position:fixed;pointer-events:none;background:#fffbe6;border:1px solid #aa9;padding:4px 6px;display:none;max-width:520px}
`;

// Draws the page from the embedded data; exposes window.faultlineHistory for tests.
const SCRIPT = `
(function(){
var data=JSON.parse(document.getElementById('history-data').textContent);
var ROW=22,LEFT=80,COL=Math.max(6,Math.min(40,Math.floor(1400/Math.max(1,data.columns)))),TOP=18;
var rowOf={};data.clients.forEach(function(c,i){rowOf[c]=i;});
var width=LEFT+data.columns*COL+20,height=TOP+data.clients.length*ROW+10;
var ns='http://www.w3.org/2000/svg';
var svg=document.createElementNS(ns,'svg');svg.setAttribute('width',width);svg.setAttribute('height',height);
function el(name,attrs,text){var e=document.createElementNS(ns,name);for(var k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;svg.appendChild(e);return e;}
data.clients.forEach(function(c,i){el('text',{x:4,y:TOP+i*ROW+14},'client '+c);el('line',{x1:LEFT,x2:width,y1:TOP+i*ROW+ROW-2,y2:TOP+i*ROW+ROW-2,stroke:'#f0f0f0'});});
var tip=document.getElementById('tip');
data.bars.forEach(function(b,i){
  var cls=b.blocked?'blocked':b.order>0?'prefix':b.inPart?'plain':'other';
  var x=LEFT+b.from*COL,w=Math.max(4,(b.to-b.from)*COL),y=TOP+rowOf[b.client]*ROW+2;
  var r=el('rect',{x:x,y:y,width:w,height:ROW-6,rx:3,'class':'bar '+cls+(b.open?' open':''),'data-index':i,'data-order':b.order});
  if(b.order>0)el('text',{x:x+3,y:y+12,'pointer-events':'none'},String(b.order));
  if(b.blocked)el('text',{x:x+3,y:y+12,'pointer-events':'none','font-weight':'bold'},'✗');
  var lines=[b.text];
  if(b.order>0)lines.push('step '+b.order+' of the longest linearizable prefix; state after: '+b.after);
  if(b.blocked)lines.push('cannot be placed after the longest linearizable prefix');
  if(b.open)lines.push('never returned: open until the end');
  r.addEventListener('mousemove',function(ev){tip.textContent=lines.join(' — ');tip.style.display='block';tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';});
  r.addEventListener('mouseleave',function(){tip.style.display='none';});
  r.__lines=lines;
});
document.getElementById('scroll').appendChild(svg);
var blocked=svg.querySelector('.bar.blocked');
var scroller=document.getElementById('scroll');
if(blocked&&Number(blocked.getAttribute('x'))>scroller.clientWidth*0.8){scroller.scrollLeft=Number(blocked.getAttribute('x'))-scroller.clientWidth/2;}
window.faultlineHistory={
  verdict:data.verdict,
  bars:function(){return svg.querySelectorAll('.bar').length;},
  prefix:function(){return Array.prototype.map.call(svg.querySelectorAll('.bar.prefix'),function(r){return Number(r.getAttribute('data-order'));}).sort(function(a,b){return a-b;});},
  blocked:function(){var r=svg.querySelector('.bar.blocked');return r?r.__lines.join(' — '):null;},
  rows:function(){return data.clients.length;},
  tooltipAt:function(index){var r=svg.querySelector('.bar[data-index="'+index+'"]');if(!r)return null;var box=r.getBoundingClientRect();r.dispatchEvent(new MouseEvent('mousemove',{clientX:box.x+2,clientY:box.y+2,bubbles:true}));return tip.style.display==='block'?tip.textContent:null;}
};
document.body.setAttribute('data-ready','true');
})();
`;

export function renderHistoryHtml(page: HistoryPage): string {
  // </script> inside the JSON would end the data block early.
  const json = JSON.stringify(page).replace(/</g, '\\u003c');
  const part = page.partition === '' ? '' : ` · part ${escapeHtml(page.partition)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(page.title)} — ${escapeHtml(page.verdict)}${part}</h1>
<p class="summary">${escapeHtml(page.summary)}</p>
<p class="legend"><span><i class="sw" style="background:#8fd18f"></i>longest linearizable prefix (numbered in order)</span><span><i class="sw" style="background:#f08080"></i>cannot be placed</span><span><i class="sw" style="background:#e4e4e4"></i>other operations</span><span><i class="sw" style="background:#e4e4e4;border-style:dashed"></i>never returned</span></p>
<div id="scroll"></div><div id="tip"></div>
<script type="application/json" id="history-data">${json}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
