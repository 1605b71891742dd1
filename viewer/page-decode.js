// Decodes the viewer's page data (see page-data.ts for the layout) once gunzipped. A plain
// script, no module: inlined into every page ahead of page.js, and run by the Node tests in a
// vm context, so the page and the tests decode with the same code.
// biome-ignore lint/correctness/noUnusedVariables: called by page.js and by page-data.ts
function decodeFaultlineData(bytes) {
  const ARROW_KINDS = ['deliver', 'drop', 'drop-at-send', 'in-flight'];
  const MARK_KINDS = [
    'crash',
    'restart',
    'fsync',
    'fsync-failed',
    'disk',
    'observe',
    'timer',
    'fault',
  ];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
  if (header.version !== 1) {
    throw new Error(`faultline page data version ${header.version}: this page reads version 1`);
  }

  // Zigzag LEB128 varints, column after column. Most values are one byte; past 31 bits the
  // arithmetic is floating point, exact to 2^53.
  let at = 4 + headerLength;
  const columns = {};
  for (const [name, count, delta] of header.columns) {
    const values = new Float64Array(count);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      let byte = bytes[at++];
      let zigzag = byte;
      if (byte >= 128) {
        zigzag = byte & 127;
        let scale = 128;
        do {
          byte = bytes[at++];
          zigzag += (byte & 127) * scale;
          scale *= 128;
        } while (byte >= 128);
      }
      let value =
        zigzag < 2147483648
          ? (zigzag >>> 1) ^ -(zigzag & 1)
          : zigzag % 2 === 0
            ? zigzag / 2
            : -(zigzag + 1) / 2;
      if (delta) {
        value += previous;
        previous = value;
      }
      values[i] = value;
    }
    columns[name] = values;
  }

  // Then each string table's UTF-8 bytes; a string is decoded when first read.
  const utf8 = new TextDecoder();
  const tables = {};
  for (const [name, count, byteLength] of header.strings) {
    const lengths = columns[`${name}.bytes`];
    const starts = new Float64Array(count + 1);
    for (let i = 0; i < count; i++) starts[i + 1] = starts[i] + lengths[i];
    if (starts[count] !== byteLength) throw new Error(`faultline page data: ${name} is cut short`);
    const table = bytes.subarray(at, at + byteLength);
    at += byteLength;
    // Codes (page-data.ts, StringColumn): 0 none, 1 the table's next string, k ≥ 2 string k - 2.
    const codes = columns[name];
    const index = new Int32Array(codes.length);
    let next = 0;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      index[i] = code === 0 ? -1 : code === 1 ? next++ : code - 2;
      if (index[i] >= count) throw new Error(`faultline page data: ${name} ${i} is past its table`);
    }
    const cache = new Array(count);
    const get = (k) => {
      if (cache[k] === undefined) cache[k] = utf8.decode(table.subarray(starts[k], starts[k + 1]));
      return cache[k];
    };
    tables[name] = { index, get };
  }
  if (at !== bytes.length) {
    throw new Error(`faultline page data: ${bytes.length - at} bytes past the last table`);
  }
  const text = (name, i) => {
    const column = tables[name];
    const k = column.index[i];
    return k < 0 ? null : column.get(k);
  };
  const c = columns;
  const messages = new Array(header.counts.messages);
  const typeIndex = tables.messageType.index;
  let typeCount = 0;
  for (const k of typeIndex) typeCount = Math.max(typeCount, k + 1);
  const types = Array.from({ length: typeCount }, (_, k) => tables.messageType.get(k));
  for (let i = 0; i < messages.length; i++) {
    messages[i] = {
      id: c.messageId[i],
      from: c.messageFrom[i],
      to: c.messageTo[i],
      type: typeIndex[i] < 0 ? null : types[typeIndex[i]],
      sendUs: c.messageSendUs[i],
      sizeBytes: c.messageSizeBytes[i],
      duplicated: c.messageDuplicated[i] === 1,
    };
  }
  const arrows = new Array(header.counts.arrows);
  for (let i = 0; i < arrows.length; i++) {
    const message = c.arrowMessage[i];
    const fromUs = (messages[message]?.sendUs ?? 0) + c.arrowFromUs[i];
    const arrow = {
      message,
      kind: ARROW_KINDS[c.arrowKind[i] >> 1],
      fromUs,
      toUs: fromUs + c.arrowDurationUs[i],
      copy: (c.arrowKind[i] & 1) === 1,
    };
    const reason = text('arrowReason', i);
    if (reason !== null) arrow.reason = reason;
    arrows[i] = arrow;
  }
  const marks = new Array(header.counts.marks);
  for (let i = 0; i < marks.length; i++) {
    marks[i] = {
      node: c.markNode[i],
      atUs: c.markAtUs[i],
      kind: MARK_KINDS[c.markKind[i]],
      label: text('markLabel', i),
    };
  }
  // Steps stay columns: the page reads a step's text only when it shows that step.
  // Arrow codes: 0 none, 1 the next new arrow, k ≥ 2 the arrow k - 1 before it.
  const count = header.counts.steps;
  const stepArrow = new Int32Array(count);
  let arrowsSeen = 0;
  for (let i = 0; i < count; i++) {
    const code = c.stepArrow[i];
    if (code === 0) {
      stepArrow[i] = -1;
      continue;
    }
    stepArrow[i] = arrowsSeen - code + 1;
    arrowsSeen = Math.max(arrowsSeen, stepArrow[i] + 1);
  }
  const steps = {
    count,
    atUs: c.stepAtUs,
    node: Int32Array.from(c.stepNode),
    arrow: stepArrow,
    kind: (i) => text('stepKind', i),
    text: (i) => {
      const head = text('stepHead', i) ?? '';
      const code = c.stepId[i];
      if (code === 0) return head;
      const id =
        code === 1 ? messages[arrows[stepArrow[i]].message].id : code > 0 ? code - 2 : code;
      return `${head}${id}${text('stepTail', i) ?? ''}`;
    },
  };
  return {
    model: { ...header.model, messages, arrows, marks },
    steps,
    // Bodies and details as their JSON text, decoded when a tooltip shows one.
    messageBody: (i) => text('messageBody', i),
    markDetail: (i) => text('markDetail', i),
  };
}
