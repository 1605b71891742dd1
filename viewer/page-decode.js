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
  const strings = header.strings;
  const str = (ref) => (ref === 0 ? null : strings[ref - 1]);

  // Zigzag LEB128 varints, column after column.
  let at = 4 + headerLength;
  const columns = {};
  for (const [name, count, delta] of header.columns) {
    const values = new Float64Array(count);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      let value = 0;
      let scale = 1;
      let byte;
      do {
        byte = bytes[at++];
        value += (byte & 127) * scale;
        scale *= 128;
      } while (byte >= 128);
      value = value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      if (delta) {
        value += previous;
        previous = value;
      }
      values[i] = value;
    }
    columns[name] = values;
  }
  if (at !== bytes.length) {
    throw new Error(`faultline page data: ${bytes.length - at} bytes past the last column`);
  }

  const c = columns;
  const messages = new Array(header.counts.messages);
  for (let i = 0; i < messages.length; i++) {
    messages[i] = {
      id: c.messageId[i],
      from: c.messageFrom[i],
      to: c.messageTo[i],
      type: str(c.messageType[i]),
      sendUs: c.messageSendUs[i],
      sizeBytes: c.messageSizeBytes[i],
      bodyJson: str(c.messageBody[i]),
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
    if (c.arrowReason[i] !== 0) arrow.reason = str(c.arrowReason[i]);
    arrows[i] = arrow;
  }
  const marks = new Array(header.counts.marks);
  for (let i = 0; i < marks.length; i++) {
    marks[i] = {
      node: c.markNode[i],
      atUs: c.markAtUs[i],
      kind: MARK_KINDS[c.markKind[i]],
      label: str(c.markLabel[i]),
      detailJson: str(c.markDetail[i]),
    };
  }
  // Steps stay columns: the page reads a step's text only when it shows that step.
  const count = header.counts.steps;
  const steps = {
    count,
    atUs: c.stepAtUs,
    node: Int32Array.from(c.stepNode),
    arrow: Int32Array.from(c.stepArrow, (ref) => ref - 1),
    kind: (i) => str(c.stepKind[i]),
    text: (i) => {
      const head = str(c.stepHead[i]) ?? '';
      const id = c.stepId[i];
      if (id === 0) return head;
      return `${head}${id > 0 ? id - 1 : id}${str(c.stepTail[i]) ?? ''}`;
    },
  };
  return { model: { ...header.model, messages, arrows, marks }, steps };
}
