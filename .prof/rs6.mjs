// systems/pingpong/records.ts
import { crc32 } from "node:zlib";

// sim/assert.ts
var AssertionError = class extends Error {
  name = "AssertionError";
};
function assert(condition, message) {
  if (!condition) {
    throw new AssertionError(message);
  }
}
function fail(message) {
  throw new AssertionError(message);
}
function assertSafeInteger(value, what) {
  if (!Number.isSafeInteger(value)) {
    throw new AssertionError(`${what} must be a safe integer, got ${value}`);
  }
}

// systems/pingpong/records.ts
var RECORD_SIZE_BYTES = 20;
var PAYLOAD_SIZE_BYTES = 12;
function pingValue(client, sequence) {
  return (Math.imul(client + 1, 2654435761) ^ Math.imul(sequence + 1, 2246822507)) >>> 0;
}
function encodeRecord(record2) {
  const bytes = new Uint8Array(RECORD_SIZE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, PAYLOAD_SIZE_BYTES, true);
  view.setUint32(8, record2.client, true);
  view.setUint32(12, record2.sequence, true);
  view.setUint32(16, record2.value, true);
  view.setUint32(4, crc32(bytes.subarray(8)), true);
  return bytes;
}
function decodeLog(bytes, verifyChecksums) {
  const records = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const recordsMax = Math.floor(bytes.length / RECORD_SIZE_BYTES);
  for (let index = 0; index < recordsMax; index++) {
    const length = view.getUint32(offset, true);
    const checksum = view.getUint32(offset + 4, true);
    const payload = bytes.subarray(offset + 8, offset + RECORD_SIZE_BYTES);
    const intact = length === PAYLOAD_SIZE_BYTES && checksum === crc32(payload);
    if (verifyChecksums && !intact) {
      break;
    }
    if (!verifyChecksums && length === 0 && checksum === 0) {
      break;
    }
    records.push({
      client: view.getUint32(offset + 8, true),
      sequence: view.getUint32(offset + 12, true),
      value: view.getUint32(offset + 16, true)
    });
    offset += RECORD_SIZE_BYTES;
  }
  assert(offset <= bytes.length, "recovery read past the end of the log");
  return { records, validBytes: offset };
}

// invariants/pingpong.ts
function formatMs(timeUs) {
  return `${(timeUs / 1e3).toFixed(3)} ms`;
}
function ackedPingsAreDurable() {
  const acked = /* @__PURE__ */ new Map();
  const checkRecovered = (record2, view) => {
    const records = record2.observation.records;
    const present = new Set(records.map((item) => `${item.client}:${item.sequence}`));
    for (const [key2, timeUs] of acked.get(record2.node) ?? []) {
      if (!present.has(key2)) {
        const [client, sequence] = key2.split(":").map(Number);
        return `${view.name(record2.node)} acknowledged ping ${sequence} of ${view.name(client)} at ${formatMs(timeUs)} but no longer has it after restarting: it answered before the ping was durable`;
      }
    }
    return void 0;
  };
  return {
    name: "acked-pings-durable",
    onObservation(record2, view) {
      const observation = record2.observation;
      if (record2.observation.type === "acked") {
        const server2 = observation["server"];
        const byServer = acked.get(server2) ?? /* @__PURE__ */ new Map();
        byServer.set(`${observation["client"]}:${observation["sequence"]}`, record2.timeUs);
        acked.set(server2, byServer);
        return void 0;
      }
      if (record2.observation.type === "recovered") {
        return checkRecovered(record2, view);
      }
      return void 0;
    }
  };
}
function recoveredRecordsIntact() {
  return {
    name: "records-intact",
    onObservation(record2, view) {
      if (record2.observation.type !== "recovered") {
        return void 0;
      }
      const records = record2.observation.records;
      for (const item of records) {
        if (item.value !== pingValue(item.client, item.sequence)) {
          return `${view.name(record2.node)} recovered a ping record (client ${item.client}, sequence ${item.sequence}) with a value no client sent: a torn or corrupted write was trusted`;
        }
      }
      return void 0;
    }
  };
}
function clientsFinish() {
  return {
    name: "clients-finish",
    atEnd(view) {
      for (const client of view.clients) {
        const state = view.inspect(client);
        if (state !== void 0 && state.done < state.ops) {
          return `${view.name(client)} had only ${state.done} of ${state.ops} pings answered by the end of the settle phase`;
        }
      }
      for (const server2 of view.servers) {
        if (view.inspect(server2) === void 0) {
          return `${view.name(server2)} is not running at the end of the settle phase`;
        }
      }
      return void 0;
    }
  };
}

// sim/topology.ts
var NODES_MAX = 320;
function nodeNames(prefix, size, alone = false) {
  assert(Number.isSafeInteger(size) && size >= 0, "a group size is a non-negative integer");
  if (alone && size === 1) {
    return [prefix];
  }
  return Array.from({ length: size }, (_, index) => `${prefix}${index + 1}`);
}
var built = /* @__PURE__ */ new WeakMap();
var Topology = class _Topology {
  groups;
  names;
  servers;
  clients;
  byName = /* @__PURE__ */ new Map();
  memberships = [];
  constructor(groups3) {
    const names = [];
    const servers = [];
    const clients = [];
    const views = [];
    for (const group of groups3) {
      assert(!this.byName.has(group.name), `group ${group.name} is declared twice`);
      const members = [];
      for (const [index, name] of group.nodes.entries()) {
        const id = names.length;
        names.push(name);
        members.push(id);
        (group.client ? clients : servers).push(id);
        this.memberships.push({ group: group.name, index, client: group.client });
      }
      const view = { name: group.name, client: group.client, members };
      views.push(view);
      this.byName.set(group.name, view);
    }
    this.groups = views;
    this.names = names;
    this.servers = servers;
    this.clients = clients;
  }
  /** The plan's topology, built once per groups list (plans are not edited in place). */
  static of(plan) {
    let topology = built.get(plan.groups);
    if (topology === void 0) {
      topology = new _Topology(plan.groups);
      built.set(plan.groups, topology);
    }
    return topology;
  }
  get size() {
    return this.names.length;
  }
  members(group) {
    const found = this.byName.get(group);
    if (found === void 0) {
      fail(`no group named ${group} (the topology has ${this.describeGroups()})`);
    }
    return found.members;
  }
  has(group) {
    return this.byName.has(group);
  }
  membership(node) {
    const found = this.memberships[node];
    if (found === void 0) {
      fail(`no node ${node} (the topology has ${this.size})`);
    }
    return found;
  }
  groupOf(node) {
    return this.membership(node).group;
  }
  isClient(node) {
    return this.membership(node).client;
  }
  name(node) {
    return this.names[node] ?? `node ${node}`;
  }
  /** The server groups, those that fault selection picks victims from. */
  serverGroups() {
    return this.groups.filter((group) => !group.client && group.members.length > 0);
  }
  /** "servers 5 (n1–n5), clients 3 (c1–c3, client)": how `list`, replay and errors say it. */
  describe() {
    return this.groups.filter((group) => group.members.length > 0).map((group) => {
      const first = this.name(group.members[0]);
      const last = this.name(group.members[group.members.length - 1]);
      const span = group.members.length === 1 ? first : `${first}\u2013${last}`;
      return `${group.name} ${group.members.length} (${span}${group.client ? ", client" : ""})`;
    }).join(", ");
  }
  describeGroups() {
    return this.groups.map((group) => group.name).join(", ") || "no groups";
  }
};

// sim/types.ts
var PLAN_FORMAT = 2;
var FAULT_KINDS = [
  "partition",
  "crash",
  "pause",
  "clock",
  "drop",
  "duplicate",
  "latency-tail",
  "torn-write",
  "read-corruption",
  "latent-sector",
  "fsync-error",
  "buggify",
  // Appended, not inserted: the swarm draws one coin per kind in this order (sim/plan.ts).
  "bit-rot",
  "misdirected-write"
];
var CRASH_LOOP_WINDOW_US = 25e4;
var CLASSIC_PARTITION_SHAPES = [
  "isolate",
  "majority-minority",
  "one-way",
  "bridge",
  "ring",
  "groups"
];
var PARTITION_SHAPES = [
  ...CLASSIC_PARTITION_SHAPES,
  /** One server cut off from every other node, clients included. */
  "isolate-node",
  /** A majority and a minority inside one server group; everyone else hears both sides. */
  "split-group",
  /** Two groups that cannot hear each other; each still hears everyone else. */
  "cut-groups"
];
var MEDIA_FAULT_KINDS = [
  "latent-sector",
  "bit-rot",
  "misdirected-write"
];
var FAULT_KINDS_BUT_MEDIA = FAULT_KINDS.filter(
  (kind) => !MEDIA_FAULT_KINDS.includes(kind)
);
var PROBABILITY_KNOBS = [
  "dropProbability",
  "duplicateProbability",
  "latencyTailProbability",
  "tornWriteProbability",
  "readCorruptionProbability",
  "buggifyProbability"
];
var OPTIONAL_PROBABILITY_KNOBS = [
  "replayProbability"
];
var HARNESS = -1;

// sim/scenario.ts
function serversAndClients(servers, clients, server2, client) {
  return [
    { name: "servers", size: servers, prefix: "n", program: server2 },
    { name: "clients", size: clients, prefix: "c", client: true, program: client }
  ];
}
var ScenarioError = class extends Error {
  name = "ScenarioError";
};
var registry = /* @__PURE__ */ new Map();
var sources = /* @__PURE__ */ new Map();
var loadingSource;
function registerScenario(scenario2) {
  checkScenarioFields(scenario2);
  const source = loadingSource ?? "faultline's built-in scenarios";
  const earlier = sources.get(scenario2.name);
  if (registry.has(scenario2.name)) {
    const where = earlier === source ? `twice by ${source}` : `by ${earlier} and again by ${source}`;
    throw new ScenarioError(
      `scenario ${scenario2.name} is registered ${where}: scenario names must be unique`
    );
  }
  checkGroups(scenario2);
  checkShape(scenario2);
  registry.set(scenario2.name, scenario2);
  sources.set(scenario2.name, source);
}
function checkScenarioFields(scenario2) {
  const value = scenario2;
  if (typeof value !== "object" || value === null) {
    throw new ScenarioError(`registerScenario was given ${String(value)}, not a scenario object`);
  }
  const name = value["name"];
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(name)) {
    throw new ScenarioError(
      `a scenario's name must be a string of letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(name) ?? String(name)}`
    );
  }
  const fail3 = (what) => {
    throw new ScenarioError(`scenario ${name}: ${what}`);
  };
  for (const field of ["description", "system"]) {
    if (typeof value[field] !== "string") {
      fail3(`${field} must be a string`);
    }
  }
  for (const field of ["durationUs", "settleUs"]) {
    const us = value[field];
    if (typeof us !== "number" || !Number.isSafeInteger(us) || us < 0) {
      fail3(`${field} must be a non-negative integer (microseconds), got ${String(us)}`);
    }
  }
  if (!Array.isArray(value["groups"]) || value["groups"].length === 0) {
    fail3("groups must be a non-empty array of { name, size, program }");
  }
  for (const [index, group] of value["groups"].entries()) {
    if (typeof group?.name !== "string" || group.name.length === 0) {
      fail3(`groups[${index}] needs a name`);
    }
    if (typeof group?.size !== "number" || !Number.isSafeInteger(group.size) || group.size < 0) {
      fail3(
        `group ${group?.name} needs a size (a non-negative integer), got ${String(group?.size)}`
      );
    }
    if (typeof group?.program !== "function") {
      fail3(`group ${group?.name} needs a program (a function from a node context to a program)`);
    }
  }
  checkFaultProfile(value["faults"], fail3);
  for (const field of ["workload", "variants"]) {
    if (typeof value[field] !== "object" || value[field] === null) {
      fail3(`${field} must be an object (use {} for none)`);
    }
  }
  if (typeof value["invariants"] !== "function") {
    fail3("invariants must be a function from the plan to fresh invariant instances");
  }
  for (const field of ["sometimes", "checks"]) {
    const table = value[field];
    if (table === void 0) {
      continue;
    }
    if (typeof table !== "object" || table === null) {
      fail3(`${field} must be an object of named functions`);
    }
    for (const [key2, check] of Object.entries(table)) {
      if (typeof check !== "function") {
        fail3(`${field}.${key2} must be a function`);
      }
    }
  }
  if (value["plan"] !== void 0 && typeof value["plan"] !== "function") {
    fail3("plan must be a function (seed, base plan) \u2192 plan");
  }
}
function checkFaultProfile(faults5, fail3) {
  if (typeof faults5 !== "object" || faults5 === null || !Array.isArray(faults5.eligible)) {
    fail3("faults must be { eligible: [fault kinds\u2026], swarm: true | false } (eligible may be [])");
  }
  const known = (kind) => FAULT_KINDS.includes(kind);
  const named = [...faults5?.eligible ?? [], ...Object.keys(faults5?.excludeGroups ?? {})];
  const unknown2 = named.find((kind) => !known(kind));
  if (unknown2 !== void 0) {
    fail3(`there is no fault kind ${JSON.stringify(unknown2)} (known: ${FAULT_KINDS.join(", ")})`);
  }
  if (typeof faults5?.swarm !== "boolean") {
    fail3("faults.swarm must be true or false");
  }
}
function checkShape(scenario2) {
  const shape = scenario2.shape;
  if (shape === void 0) {
    return;
  }
  const largest = {};
  for (const [group, sizes] of Object.entries(shape.groupSizes ?? {})) {
    if (!scenario2.groups.some((spec) => spec.name === group)) {
      throw new ScenarioError(
        `scenario ${scenario2.name} draws the size of a group ${group} it lacks`
      );
    }
    if (sizes.length === 0 || sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
      throw new ScenarioError(`scenario ${scenario2.name} draws ${group}'s size from bad choices`);
    }
    largest[group] = Math.max(...sizes);
  }
  const ranges = [
    ...shape.durationUs === void 0 ? [] : [shape.durationUs],
    ...Object.values(shape.workload ?? {})
  ];
  if (ranges.some((range3) => !(range3.min >= 1 && range3.min <= range3.max))) {
    throw new ScenarioError(`scenario ${scenario2.name} draws from a range without 1 <= min <= max`);
  }
  checkGroups({
    name: scenario2.name,
    groups: scenario2.groups.map((group) => ({ ...group, size: largest[group.name] ?? group.size }))
  });
}
function planGroups(scenario2, sizes = {}) {
  return scenario2.groups.map((group) => ({
    name: group.name,
    client: group.client === true,
    nodes: nodeNames(
      group.prefix ?? group.name,
      sizes[group.name] ?? group.size,
      group.alone === true
    )
  }));
}
function checkGroups(scenario2) {
  const groups3 = /* @__PURE__ */ new Set();
  const names = /* @__PURE__ */ new Set();
  let total = 0;
  for (const group of scenario2.groups) {
    if (groups3.has(group.name)) {
      throw new ScenarioError(`scenario ${scenario2.name} declares group ${group.name} twice`);
    }
    groups3.add(group.name);
    total += group.size;
  }
  for (const plan of planGroups(scenario2)) {
    for (const name of plan.nodes) {
      if (names.has(name)) {
        throw new ScenarioError(`scenario ${scenario2.name} names two nodes ${name}`);
      }
      names.add(name);
    }
  }
  if (total === 0 || total > NODES_MAX) {
    throw new ScenarioError(
      `scenario ${scenario2.name} has ${total} nodes; a run has 1 to ${NODES_MAX}`
    );
  }
}
function topologyMismatch(scenario2, plan) {
  const declared = scenario2.groups.map((group) => group.name);
  const unknown2 = plan.groups.find((group) => !declared.includes(group.name));
  return unknown2 === void 0 ? void 0 : `the plan has a group ${unknown2.name}, which scenario ${scenario2.name} does not declare (it has ${declared.join(", ")})`;
}
function groupProgram(scenario2, group) {
  return scenario2.groups.find((spec) => spec.name === group)?.program;
}
function resolveVariant(scenario2, name) {
  if (name in scenario2.variants) {
    return name;
  }
  const colon = name.indexOf(":");
  if (colon > 0 && name.slice(colon + 1) in scenario2.variants) {
    return name.slice(colon + 1);
  }
  const prefixed = Object.keys(scenario2.variants).filter((key2) => key2.endsWith(`:${name}`));
  return prefixed.length === 1 ? prefixed[0] : void 0;
}
function findScenario(name) {
  return registry.get(name);
}
function variantFor(variant, subsystem) {
  if (variant === null) {
    return null;
  }
  const colon = variant.indexOf(":");
  if (colon < 0) {
    return variant;
  }
  return variant.slice(0, colon) === subsystem ? variant.slice(colon + 1) : null;
}

// systems/pingpong/client.ts
var RETRY_US = 4e4;
var PingpongClient = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.ops = Number(ctx.workload["opsPerClient"] ?? 10);
  }
  ctx;
  sequence = 0;
  attempt = 0;
  operationId = -1;
  retryTimer = -1;
  ops;
  onStart() {
    this.sequence = 0;
    this.next();
  }
  next() {
    if (this.sequence >= this.ops) {
      return;
    }
    this.sequence++;
    this.attempt = 0;
    this.operationId = this.ctx.history.invoke({ f: "ping", sequence: this.sequence });
    this.sendPing();
  }
  sendPing() {
    const servers = this.ctx.servers;
    const server2 = servers[(this.ctx.id + this.sequence + this.attempt) % servers.length];
    const ping = {
      type: "ping",
      sequence: this.sequence,
      value: pingValue(this.ctx.id, this.sequence)
    };
    this.ctx.send(server2, ping, 24);
    this.retryTimer = this.ctx.setTimer(RETRY_US, "retry");
  }
  onMessage(_from, message) {
    const typed = message;
    if (typed.type !== "pong" || typed.sequence !== this.sequence || this.operationId < 0) {
      return;
    }
    this.ctx.cancelTimer(this.retryTimer);
    this.ctx.history.complete(this.operationId, "ok", null);
    this.ctx.observe({
      type: "acked",
      client: this.ctx.id,
      sequence: this.sequence,
      server: _from
    });
    this.operationId = -1;
    this.next();
  }
  onTimer(tag) {
    if (tag !== "retry" || this.operationId < 0) {
      return;
    }
    this.attempt++;
    this.ctx.observe({ type: "retried", sequence: this.sequence, attempt: this.attempt });
    this.sendPing();
  }
  inspect() {
    return {
      role: "client",
      done: this.operationId < 0 ? this.sequence : this.sequence - 1,
      ops: this.ops
    };
  }
};

// sim/disk.ts
var SECTOR_SIZE_BYTES = 512;
var FILE_SIZE_BYTES_MAX = 256 * 1024 * 1024;
var FILES_MAX = 4096;
var PENDING_SYNCS_MAX = 65536;
var DiskReadError = class extends Error {
  name = "DiskReadError";
};
var ProcessExit = class extends Error {
  name = "ProcessExit";
};
var SLAB_SECTORS = 16;
var slab = new Uint8Array(0);
var slabUsedBytes = 0;
function newSector() {
  if (slabUsedBytes === slab.length) {
    slab = new Uint8Array(SLAB_SECTORS * SECTOR_SIZE_BYTES);
    slabUsedBytes = 0;
  }
  const sector = slab.subarray(slabUsedBytes, slabUsedBytes + SECTOR_SIZE_BYTES);
  slabUsedBytes += SECTOR_SIZE_BYTES;
  return sector;
}
var DirtySectors = class {
  bySector = [];
  /** sector -> its position in `list`, while it is dirty. */
  positions = [];
  list = [];
  get size() {
    return this.list.length;
  }
  get(sector) {
    return this.bySector[sector];
  }
  set(dirty) {
    const sector = dirty.sector;
    if (this.bySector[sector] === void 0) {
      this.positions[sector] = this.list.length;
      this.list.push(dirty);
    } else {
      this.list[this.positions[sector]] = dirty;
    }
    this.bySector[sector] = dirty;
  }
  delete(sector) {
    const dirty = this.bySector[sector];
    if (dirty === void 0) {
      return;
    }
    const position = this.positions[sector];
    const last = this.list.pop();
    if (last !== dirty) {
      this.list[position] = last;
      this.positions[last.sector] = position;
    }
    this.bySector[sector] = void 0;
  }
  /** The dirty sector numbers, ascending. */
  sortedSectors() {
    return this.list.map((dirty) => dirty.sector).sort((a, b) => a - b);
  }
  clear() {
    for (const dirty of this.list) {
      this.bySector[dirty.sector] = void 0;
    }
    this.list.length = 0;
  }
};
var SimFile = class {
  durable = [];
  /** The write generation of each durable sector: an older fsync finishing late must not
   *  overwrite what a newer one already made durable. */
  durableGenerations = [];
  durableSizeBytes = 0;
  durableSizeGeneration = 0;
  dirty = new DirtySectors();
  sizeBytes = 0;
  badSectors = /* @__PURE__ */ new Set();
  sectorView(sector) {
    return this.dirty.get(sector)?.data ?? this.durable[sector];
  }
};
var Disk = class {
  constructor(random) {
    this.random = random;
  }
  random;
  files = /* @__PURE__ */ new Map();
  /**
   * In-flight fsyncs, oldest first. A list, not a Map: a node has one or a few in flight, and
   * a Map keyed by ever-growing ids rehashed as they came and went.
   */
  pendingSyncs = [];
  nextSyncId = 1;
  generation = 0;
  failNextFsync = false;
  misdirectNextSync = false;
  /** Called when an armed misdirected write lands (for the trace). */
  onMisdirected = null;
  readCorruptionProbability = 0;
  scheduler = null;
  stats = {
    writes: 0,
    bytesWritten: 0,
    fsyncs: 0,
    tornCrashes: 0,
    corruptedReads: 0,
    latentErrors: 0,
    fsyncErrors: 0,
    latentSectorsArmed: 0,
    sectorsRotted: 0,
    misdirectedWrites: 0
  };
  list() {
    return [...this.files.keys()].sort();
  }
  exists(name) {
    return this.files.has(name);
  }
  /** The size the running process sees (including unsynced writes). */
  size(name) {
    return this.files.get(name)?.sizeBytes ?? 0;
  }
  write(name, offsetBytes, data) {
    assertSafeInteger(offsetBytes, "write offset");
    assert(offsetBytes >= 0, "write offset must not be negative");
    const end = offsetBytes + data.length;
    if (end > FILE_SIZE_BYTES_MAX) {
      fail(`file ${name} would exceed the simulated size limit`);
    }
    const file = this.open(name);
    let position = offsetBytes;
    while (position < end) {
      const sector = Math.floor(position / SECTOR_SIZE_BYTES);
      const sectorStart = sector * SECTOR_SIZE_BYTES;
      const chunkEnd = Math.min(end, sectorStart + SECTOR_SIZE_BYTES);
      const next = newSector();
      const current = file.sectorView(sector);
      if (current !== void 0 && chunkEnd - position < SECTOR_SIZE_BYTES) {
        next.set(current);
      }
      const whole = position === offsetBytes && chunkEnd === end;
      next.set(
        whole ? data : data.subarray(position - offsetBytes, chunkEnd - offsetBytes),
        position - sectorStart
      );
      file.dirty.set({ sector, data: next, generation: ++this.generation });
      if (file.badSectors.size > 0) {
        file.badSectors.delete(sector);
      }
      position = chunkEnd;
    }
    file.sizeBytes = Math.max(file.sizeBytes, end);
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
  }
  /** Appends at the current end of the file; returns the offset written at. */
  append(name, data) {
    const offsetBytes = this.size(name);
    this.write(name, offsetBytes, data);
    return offsetBytes;
  }
  /** Reads `lengthBytes` (default: to the end). Throws DiskReadError on a latent sector error. */
  read(name, offsetBytes = 0, lengthBytes) {
    const result = this.copyOut(name, offsetBytes, lengthBytes, true);
    this.maybeCorrupt(result);
    return result;
  }
  /**
   * What a read would return now, for checkers: no read corruption, no latent sector error,
   * nothing counted and no random draw, so that looking never changes the run.
   */
  peek(name, offsetBytes = 0, lengthBytes) {
    return this.copyOut(name, offsetBytes, lengthBytes, false);
  }
  /** The file's current bytes in a range; with `faults`, a latent sector error throws. */
  copyOut(name, offsetBytes, lengthBytes, faults5) {
    const file = this.files.get(name);
    if (file === void 0) {
      return new Uint8Array(0);
    }
    const end = Math.min(file.sizeBytes, offsetBytes + (lengthBytes ?? file.sizeBytes));
    const result = new Uint8Array(Math.max(0, end - offsetBytes));
    let position = offsetBytes;
    while (position < end) {
      const sector = Math.floor(position / SECTOR_SIZE_BYTES);
      if (faults5 && file.badSectors.has(sector)) {
        this.stats.latentErrors++;
        throw new DiskReadError(`latent sector error reading ${name} at sector ${sector}`);
      }
      const sectorStart = sector * SECTOR_SIZE_BYTES;
      const chunkEnd = Math.min(end, sectorStart + SECTOR_SIZE_BYTES);
      const view = file.sectorView(sector);
      if (view !== void 0) {
        result.set(
          view.subarray(position - sectorStart, chunkEnd - sectorStart),
          position - offsetBytes
        );
      }
      position = chunkEnd;
    }
    return result;
  }
  /**
   * The durable image of a file: what survives a power loss now (synced sectors, and torn ones
   * that landed at a crash), up to its durable size, with no read fault applied. For checkers
   * only, which compare it with what a node recovered; undefined when the file does not exist.
   */
  durableImage(name) {
    const file = this.files.get(name);
    if (file === void 0) {
      return void 0;
    }
    const result = new Uint8Array(file.durableSizeBytes);
    for (let sector = 0; sector * SECTOR_SIZE_BYTES < result.length; sector++) {
      const data = file.durable[sector];
      if (data !== void 0) {
        const start2 = sector * SECTOR_SIZE_BYTES;
        result.set(data.subarray(0, Math.min(SECTOR_SIZE_BYTES, result.length - start2)), start2);
      }
    }
    return result;
  }
  /** Shrinks (or grows with zeros) the file; volatile until the next fsync. */
  truncate(name, sizeBytes) {
    assertSafeInteger(sizeBytes, "truncate size");
    assert(sizeBytes >= 0, "truncate size must not be negative");
    const file = this.open(name);
    if (sizeBytes < file.sizeBytes) {
      const lastSector = Math.floor(sizeBytes / SECTOR_SIZE_BYTES);
      const tail = sizeBytes % SECTOR_SIZE_BYTES;
      if (tail > 0) {
        const kept = newSector();
        kept.set((file.sectorView(lastSector) ?? kept).subarray(0, tail));
        file.dirty.set({ sector: lastSector, data: kept, generation: ++this.generation });
      }
      const firstGone = tail > 0 ? lastSector + 1 : lastSector;
      for (const sector of file.dirty.sortedSectors()) {
        if (sector >= firstGone) {
          file.dirty.delete(sector);
        }
      }
    }
    file.sizeBytes = sizeBytes;
  }
  /** Atomically replaces `to` with `from` (like rename(2) followed by a directory fsync). */
  rename(from2, to) {
    const file = this.files.get(from2);
    if (file === void 0) {
      fail(`rename: no file ${from2}`);
    }
    this.files.delete(from2);
    this.files.set(to, file);
  }
  /** Deletes the file at once (metadata operations are durable in this model). */
  remove(name) {
    this.files.delete(name);
  }
  /**
   * Starts an fsync of `name`; `onSynced(syncId, ok)` fires when it completes. Only the
   * writes made before this call are covered.
   */
  fsync(name) {
    const file = this.open(name);
    const syncId = this.nextSyncId++;
    const sectors = file.dirty.list.slice();
    assert(this.pendingSyncs.length < PENDING_SYNCS_MAX, "too many fsyncs in flight on one disk");
    this.pendingSyncs.push({
      syncId,
      file,
      sectors,
      sizeBytes: file.sizeBytes,
      sizeGeneration: ++this.generation
    });
    this.stats.fsyncs++;
    assert(this.scheduler !== null, "a disk must be attached to the simulator before fsync");
    this.scheduler.scheduleSync(syncId);
    return syncId;
  }
  /** Called by the simulator when an fsync's latency has elapsed. Returns success. */
  completeSync(syncId) {
    const pendingSyncs = this.pendingSyncs;
    let position = 0;
    while (position < pendingSyncs.length && pendingSyncs[position]?.syncId !== syncId) {
      position++;
    }
    const pending = pendingSyncs[position];
    if (pending === void 0) {
      fail(`unknown sync ${syncId}`);
    }
    for (let later = position + 1; later < pendingSyncs.length; later++) {
      pendingSyncs[later - 1] = pendingSyncs[later];
    }
    pendingSyncs.pop();
    const { file } = pending;
    if (this.failNextFsync) {
      this.failNextFsync = false;
      this.stats.fsyncErrors++;
      for (const dirty of pending.sectors) {
        if (file.dirty.get(dirty.sector)?.generation === dirty.generation) {
          file.dirty.delete(dirty.sector);
        }
      }
      return false;
    }
    const misdirected = this.misdirectNextSync ? this.misdirect(pending) : void 0;
    for (const dirty of pending.sectors) {
      const sector = dirty.sector;
      const landed = sector !== misdirected?.sector;
      if (landed && dirty.generation > (file.durableGenerations[sector] ?? 0)) {
        file.durable[sector] = dirty.data;
        file.durableGenerations[sector] = dirty.generation;
      }
      if (file.dirty.get(sector)?.generation === dirty.generation) {
        file.dirty.delete(sector);
      }
    }
    if (pending.sizeGeneration > file.durableSizeGeneration) {
      file.durableSizeBytes = pending.sizeBytes;
      file.durableSizeGeneration = pending.sizeGeneration;
    }
    if (misdirected !== void 0) {
      this.landMisdirected(file, misdirected);
    }
    return true;
  }
  /**
   * An armed misdirected write: picks one sector of this sync and another sector of the same
   * file (within the size the sync makes durable) for it to land on. Undefined (and it stays
   * armed) when the sync has no sector with somewhere else to land.
   */
  misdirect(pending) {
    const sectors = Math.ceil(pending.sizeBytes / SECTOR_SIZE_BYTES);
    if (pending.sectors.length === 0 || sectors < 2) {
      return void 0;
    }
    const dirty = this.random.pick(pending.sectors);
    const sector = dirty.sector;
    let target = this.random.int(sectors - 1);
    if (target >= sector) {
      target++;
    }
    this.misdirectNextSync = false;
    return { sector, target, dirty };
  }
  /** Lands a misdirected sector on its wrong target, after the rest of its sync. */
  landMisdirected(file, { sector, target, dirty }) {
    file.durable[target] = dirty.data;
    file.durableGenerations[target] = Math.max(
      file.durableGenerations[target] ?? 0,
      dirty.generation
    );
    this.stats.misdirectedWrites++;
    this.onMisdirected?.({ file: this.nameOf(file), sector, landedOn: target });
  }
  nameOf(file) {
    for (const [name, candidate2] of this.files) {
      if (candidate2 === file) {
        return name;
      }
    }
    return "(removed)";
  }
  /**
   * The machine lost power: unsynced writes vanish, or (when `tear`) a random subset of the
   * dirty sectors reaches the platter. In-flight fsyncs never complete.
   */
  crash(tear) {
    this.pendingSyncs.splice(0);
    this.failNextFsync = false;
    for (const file of this.files.values()) {
      let sizeBytes = file.durableSizeBytes;
      if (tear && file.dirty.size > 0) {
        this.stats.tornCrashes++;
        for (const sector of file.dirty.sortedSectors()) {
          if (this.tearSector(file, sector)) {
            const sectorEnd = (sector + 1) * SECTOR_SIZE_BYTES;
            sizeBytes = Math.max(sizeBytes, Math.min(file.sizeBytes, sectorEnd));
          }
        }
      }
      file.dirty.clear();
      file.sizeBytes = sizeBytes;
      file.durableSizeBytes = sizeBytes;
    }
  }
  /**
   * One dirty sector at power loss: it never reaches the platter, reaches it whole, or is
   * torn inside (a prefix of the new bytes over the old ones, as on a drive without
   * power-loss protection). Returns whether anything of it landed.
   */
  tearSector(file, sector) {
    const dirty = file.dirty.get(sector);
    const fate = this.random.int(3);
    if (fate === 0) {
      return false;
    }
    let landed = dirty.data;
    if (fate === 2) {
      const cutBytes = this.random.between(1, SECTOR_SIZE_BYTES - 1);
      landed = newSector();
      landed.set(file.durable[sector] ?? landed);
      landed.set(dirty.data.subarray(0, cutBytes));
    }
    file.durable[sector] = landed;
    file.durableGenerations[sector] = dirty.generation;
    return true;
  }
  armFsyncError() {
    this.failNextFsync = true;
  }
  /** Marks one random written sector as unreadable; returns false when there is none. */
  armLatentSectorError() {
    const candidates = [];
    for (const name of this.list()) {
      const file2 = this.files.get(name);
      const sectors = Math.ceil(file2.sizeBytes / SECTOR_SIZE_BYTES);
      for (let sector2 = 0; sector2 < sectors && candidates.length < 1e5; sector2++) {
        candidates.push([file2, sector2]);
      }
    }
    if (candidates.length === 0) {
      return false;
    }
    const [file, sector] = this.random.pick(candidates);
    file.badSectors.add(sector);
    this.stats.latentSectorsArmed++;
    return true;
  }
  /** The next fsync that has a sector to misdirect writes one sector to the wrong place. */
  armMisdirectedWrite() {
    this.misdirectNextSync = true;
  }
  /** Faults stop (the settle phase): an armed misdirected write that has not landed never will. */
  disarmMisdirectedWrite() {
    this.misdirectNextSync = false;
  }
  /**
   * Bit rot: flips one random bit inside the used bytes of one random synced sector (one whose
   * durable copy is what a read returns: not overwritten in the cache since). Every read
   * returns the same damaged bytes from then on, until the sector is rewritten. Returns where
   * it landed, or undefined when nothing synced is there to rot.
   */
  rotSyncedSector() {
    const candidates = [];
    for (const name2 of this.list()) {
      const file2 = this.files.get(name2);
      const sizeBytes = Math.min(file2.sizeBytes, file2.durableSizeBytes);
      const sectors = Math.ceil(sizeBytes / SECTOR_SIZE_BYTES);
      for (let sector2 = 0; sector2 < sectors && candidates.length < 1e5; sector2++) {
        if (file2.durable[sector2] !== void 0 && file2.dirty.get(sector2) === void 0) {
          candidates.push([name2, file2, sector2]);
        }
      }
    }
    if (candidates.length === 0) {
      return void 0;
    }
    const [name, file, sector] = this.random.pick(candidates);
    this.rot(file, sector, this.random.int(this.usedBytes(file, sector) * 8));
    return { file: name, sector };
  }
  /**
   * Flips the low bit of the byte at `offsetBytes` of `name` in its durable copy, as bit rot
   * does: for tests that damage a chosen place. Its sector must be synced and not overwritten
   * in the cache since.
   */
  rotByte(name, offsetBytes) {
    const file = this.files.get(name);
    assert(file !== void 0, `rotByte: no file ${name}`);
    const sector = Math.floor(offsetBytes / SECTOR_SIZE_BYTES);
    assert(
      offsetBytes < file.durableSizeBytes,
      `rotByte: byte ${offsetBytes} of ${name} is not synced`
    );
    assert(
      file.dirty.get(sector) === void 0,
      `rotByte: sector ${sector} of ${name} is overwritten in the cache`
    );
    this.rot(file, sector, offsetBytes % SECTOR_SIZE_BYTES * 8);
  }
  /** The bytes of a sector inside its file's durable (and current) size. */
  usedBytes(file, sector) {
    const sizeBytes = Math.min(file.sizeBytes, file.durableSizeBytes);
    return Math.min(SECTOR_SIZE_BYTES, sizeBytes - sector * SECTOR_SIZE_BYTES);
  }
  rot(file, sector, bit) {
    assert(bit >= 0 && bit < this.usedBytes(file, sector) * 8, "bit rot lands inside the file");
    const rotted = newSector();
    rotted.set(file.durable[sector]);
    rotted[bit >> 3] = rotted[bit >> 3] ^ 1 << (bit & 7);
    file.durable[sector] = rotted;
    this.stats.sectorsRotted++;
  }
  /**
   * Media faults that hit this disk so far: sectors given a latent error, reads that came
   * back corrupted, rotted sectors and misdirected writes. Crashes, torn unsynced tails and
   * failed fsyncs are not media faults: a correct node recovers from those without refusing
   * to start.
   */
  /** Media faults that changed what this disk stores: all but the transient corrupted reads. */
  storedDamage() {
    const { latentSectorsArmed, sectorsRotted, misdirectedWrites } = this.stats;
    return latentSectorsArmed + sectorsRotted + misdirectedWrites;
  }
  mediaFaults() {
    const { latentSectorsArmed, corruptedReads, sectorsRotted, misdirectedWrites } = this.stats;
    return latentSectorsArmed + corruptedReads + sectorsRotted + misdirectedWrites;
  }
  maybeCorrupt(data) {
    if (data.length === 0 || this.readCorruptionProbability === 0) {
      return;
    }
    if (this.random.chance(this.readCorruptionProbability)) {
      const bit = this.random.int(data.length * 8);
      data[bit >> 3] = data[bit >> 3] ^ 1 << (bit & 7);
      this.stats.corruptedReads++;
    }
  }
  open(name) {
    let file = this.files.get(name);
    if (file === void 0) {
      assert(name.length > 0, "a file needs a name");
      assert(this.files.size < FILES_MAX, "too many files on one simulated disk");
      file = new SimFile();
      this.files.set(name, file);
    }
    return file;
  }
};

// systems/stable-read.ts
var READ_ATTEMPTS_MAX = 5;
function readStable(disk, name) {
  let previous = disk.read(name);
  for (let attempt = 0; attempt < READ_ATTEMPTS_MAX; attempt++) {
    const current = disk.read(name);
    if (Buffer.compare(previous, current) === 0) {
      return current;
    }
    previous = current;
  }
  throw new ProcessExit(`${name} reads differently every time`);
}

// systems/pingpong/server.ts
var LOG_FILE = "pings.log";
var HEARTBEAT_US = 2e4;
var BUGGIFY_PONG_DELAY_US = 15e3;
function key(client, sequence) {
  return `${client}:${sequence}`;
}
var PingpongServer = class {
  constructor(ctx) {
    this.ctx = ctx;
  }
  ctx;
  durable = /* @__PURE__ */ new Map();
  accepted = /* @__PURE__ */ new Set();
  /** Fsync id → the pings it makes durable. */
  syncing = /* @__PURE__ */ new Map();
  heartbeatRound = 0;
  onStart() {
    this.recover();
    this.ctx.setTimer(HEARTBEAT_US, "heartbeat");
  }
  recover() {
    const { disk } = this.ctx;
    const bytes = readStable(disk, LOG_FILE);
    const { records, validBytes } = decodeLog(
      bytes,
      variantFor(this.ctx.variant, "pingpong") !== "no-checksum"
    );
    if (validBytes < bytes.length) {
      disk.truncate(LOG_FILE, validBytes);
      this.ctx.observe({ type: "torn-tail-recovered", cutBytes: bytes.length - validBytes });
    }
    this.durable.clear();
    this.accepted.clear();
    for (const record2 of records) {
      this.durable.set(key(record2.client, record2.sequence), record2);
      this.accepted.add(key(record2.client, record2.sequence));
    }
    this.ctx.log("recovered", { records: records.length });
    this.ctx.observe({ type: "recovered", records });
  }
  onMessage(from2, message) {
    const typed = message;
    switch (typed.type) {
      case "ping":
        this.onPing(from2, typed);
        return;
      case "heartbeat":
        this.ctx.send(from2, { type: "heartbeat-ack", round: typed.round }, 16);
        return;
      case "heartbeat-ack":
      case "pong":
        return;
    }
  }
  onPing(from2, ping) {
    const id = key(from2, ping.sequence);
    if (this.durable.has(id)) {
      this.pong(from2, ping.sequence);
      return;
    }
    if (this.accepted.has(id)) {
      return;
    }
    const record2 = { client: from2, sequence: ping.sequence, value: ping.value };
    this.accepted.add(id);
    this.ctx.disk.append(LOG_FILE, encodeRecord(record2));
    const syncId = this.ctx.disk.fsync(LOG_FILE);
    this.syncing.set(syncId, [record2]);
    if (variantFor(this.ctx.variant, "pingpong") === "ack-before-fsync") {
      this.pong(from2, ping.sequence);
    }
  }
  onSynced(syncId, ok) {
    const records = this.syncing.get(syncId) ?? [];
    this.syncing.delete(syncId);
    if (!ok) {
      this.ctx.observe({ type: "fsync-failed" });
      throw new ProcessExit("fsync failed");
    }
    for (const record2 of records) {
      this.durable.set(key(record2.client, record2.sequence), record2);
      if (variantFor(this.ctx.variant, "pingpong") !== "ack-before-fsync") {
        this.pong(record2.client, record2.sequence);
      }
    }
  }
  pong(client, sequence) {
    if (this.ctx.buggify("pingpong.delay-pong")) {
      this.ctx.setTimer(BUGGIFY_PONG_DELAY_US, `pong:${client}:${sequence}`);
      return;
    }
    this.ctx.send(client, { type: "pong", sequence }, 16);
  }
  onTimer(tag) {
    if (tag.startsWith("pong:")) {
      const [, client, sequence] = tag.split(":");
      this.ctx.send(
        Number(client),
        { type: "pong", sequence: Number(sequence) },
        16
      );
      return;
    }
    if (tag !== "heartbeat") {
      return;
    }
    this.heartbeatRound++;
    for (const peer of this.ctx.servers) {
      if (peer !== this.ctx.id) {
        this.ctx.send(
          peer,
          { type: "heartbeat", round: this.heartbeatRound },
          16
        );
      }
    }
    this.ctx.setTimer(HEARTBEAT_US, "heartbeat");
  }
  inspect() {
    return { role: "server", durable: [...this.durable.values()] };
  }
};

// systems/pingpong/index.ts
var PINGPONG_VARIANTS = {
  "ack-before-fsync": "the server answers a ping before its fsync has completed",
  "no-checksum": "the server trusts its log on recovery without checking record checksums"
};
function pingpongGroups(servers, clients) {
  return serversAndClients(
    servers,
    clients,
    (context) => new PingpongServer(context),
    (context) => new PingpongClient(context)
  );
}

// scenarios/pingpong.ts
registerScenario({
  name: "pingpong",
  description: "Clients ping servers that fsync each ping before answering; crashes must not lose an answered ping.",
  system: "pingpong",
  durationUs: 2e6,
  settleUs: 2e6,
  faults: {
    // A media fault in a server's only copy of its log cannot be repaired: the example keeps
    // no replicas to repair from.
    eligible: [...FAULT_KINDS_BUT_MEDIA],
    swarm: true
  },
  workload: { opsPerClient: 20 },
  shrinkableWorkload: { opsPerClient: 0 },
  variants: PINGPONG_VARIANTS,
  groups: pingpongGroups(3, 2),
  invariants: () => [ackedPingsAreDurable(), recoveredRecordsIntact(), clientsFinish()],
  sometimes: {
    "a torn log tail was recovered": (record2) => record2.observation.type === "torn-tail-recovered",
    "a ping was retried": (record2) => record2.observation.type === "retried",
    "an fsync failed": (record2) => record2.observation.type === "fsync-failed",
    "a server recovered pings after a restart": (record2) => record2.observation.type === "recovered" && record2.observation.records.length > 0
  }
});

// sim/trace.ts
var DIGEST_NODES_MAX = 4096;
function mix(hash, value) {
  let h = Math.imul(hash ^ value, 1540483477);
  h ^= h >>> 15;
  return h;
}
function digestString(hash, text) {
  let h = hash;
  for (let index = 0; index < text.length; index++) {
    h = Math.imul(h ^ text.charCodeAt(index), 16777619);
  }
  return h;
}
function digestNumber(hash, value) {
  if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
    return mix(hash, value);
  }
  return digestString(mix(hash, 110), String(value));
}
var digestStack = [];
function digestValue(value) {
  let hash = 2166136261;
  const stack = digestStack;
  stack.push(value);
  let visited = 0;
  while (stack.length > 0 && visited < DIGEST_NODES_MAX) {
    const item = stack.pop();
    visited++;
    switch (typeof item) {
      case "number":
        hash = digestNumber(hash, item);
        break;
      case "string":
        hash = digestString(mix(hash, 115), item);
        break;
      case "boolean":
        hash = mix(hash, item ? 116 : 102);
        break;
      case "bigint":
        hash = digestString(mix(hash, 98), item.toString());
        break;
      case "object":
        hash = digestObject(hash, item, stack);
        break;
      default:
        hash = mix(hash, 117);
    }
  }
  if (stack.length > 0) {
    stack.length = 0;
  }
  return hash >>> 0;
}
function digestObject(hash, item, stack) {
  if (item === null) {
    return mix(hash, 108);
  }
  if (item instanceof Uint8Array) {
    const length = item.length;
    let h2 = mix(hash, length);
    const words = length - length % 4;
    let index = 0;
    for (; index < words; index += 4) {
      const word = item[index] | item[index + 1] << 8 | item[index + 2] << 16 | item[index + 3] << 24;
      h2 = Math.imul(h2 ^ word, 16777619);
    }
    for (; index < length; index++) {
      h2 = Math.imul(h2 ^ item[index], 16777619);
    }
    return h2;
  }
  if (Array.isArray(item)) {
    for (let index = item.length - 1; index >= 0; index--) {
      stack.push(item[index]);
    }
    return mix(hash, 97 + item.length);
  }
  const record2 = item;
  let h = mix(hash, 111);
  for (const key2 in record2) {
    h = mix(h, keyDigest(key2));
    stack.push(record2[key2]);
  }
  return h;
}
var KEY_DIGESTS_MAX = 65536;
var keyDigests = /* @__PURE__ */ new Map();
function keyDigest(key2) {
  let digest = keyDigests.get(key2);
  if (digest === void 0) {
    digest = digestString(2166136261, key2);
    if (keyDigests.size < KEY_DIGESTS_MAX) {
      keyDigests.set(key2, digest);
    }
  }
  return digest;
}
var TraceHash = class {
  low = 2654435769;
  high = 2135587861;
  add(timeUs, kind, node, digest) {
    let low = this.low;
    let high = this.high;
    low = mix(low, timeUs | 0);
    low = mix(low, Math.floor(timeUs / 4294967296));
    low = mix(low, kind << 16 ^ node & 65535);
    low = mix(low, digest);
    high = mix(high ^ low, digest + kind);
    high = mix(high, timeUs | 0);
    this.low = low;
    this.high = high;
  }
  hex() {
    return (this.high >>> 0).toString(16).padStart(8, "0") + (this.low >>> 0).toString(16).padStart(8, "0");
  }
};

// systems/raft/contract.ts
function raftState(view, node, group) {
  if (node < 0) {
    return void 0;
  }
  const inspected = view.inspect(node);
  return inspected?.raftGroup?.(group);
}
function raftGroupOf(record2) {
  const group = record2.observation.group;
  return typeof group === "string" ? group : void 0;
}
function raftObservation(record2) {
  return record2.observation;
}
function commandDigest(data) {
  return digestValue(data);
}
function entryDigest(kind, data) {
  return kind === "command" ? commandDigest(data) : digestValue([kind, data]);
}
var utf8 = new TextEncoder();
function encodeCommand(id) {
  return utf8.encode(id);
}
function commandIdDigest(id) {
  return commandDigest(encodeCommand(id));
}

// invariants/raft-common.ts
function serverState(view, node) {
  return raftState(view, node);
}
function formatTime(timeUs) {
  return `${(timeUs / 1e3).toFixed(3)} ms`;
}
function formatDigest(digest) {
  return digest === void 0 ? "unknown" : `0x${(digest >>> 0).toString(16).padStart(8, "0")}`;
}
function at(view, source) {
  return `${view.name(source.node)} at ${formatTime(source.timeUs)}`;
}
var PerNode = class {
  constructor(initial) {
    this.initial = initial;
  }
  initial;
  values = [];
  get(node) {
    return this.values[node] ?? this.initial;
  }
  set(node, value) {
    if (!(node >= 0 && Number.isSafeInteger(node))) {
      fail(`node id ${node} must be a small integer`);
    }
    this.values[node] = value;
  }
  lowerTo(node, value) {
    this.set(node, Math.min(this.get(node), value));
  }
};
var COLLECT_PER_OBSERVATION_MAX = 1024;
var CommittedEntries = class {
  entries = /* @__PURE__ */ new Map();
  /** Every index at or below this was collected (or was compacted everywhere we looked). */
  collectedTo = 0;
  /** The indexes collected by the latest update (empty when freshFrom > freshTo). */
  freshFrom = 1;
  freshTo = 0;
  /** Highest index any node reported committed. */
  highest = 0;
  /**
   * term → highest index known committed by the end of that term. A leader's own commit is
   * exact (leaderTerm); a follower's is bounded by its current term, which is an upper bound
   * of the term in which the leader committed it.
   */
  highestByTerm = /* @__PURE__ */ new Map();
  lastRecord;
  update(record2, view) {
    if (record2 === this.lastRecord) {
      return;
    }
    this.lastRecord = record2;
    this.freshFrom = this.collectedTo + 1;
    this.freshTo = this.collectedTo;
    const observation = raftObservation(record2);
    if (observation.type !== "committed") {
      return;
    }
    const state = serverState(view, record2.node);
    if (state === void 0) {
      fail(`${view.name(record2.node)} reported a commit but is not a server`);
    }
    const commitTerm = observation.leaderTerm ?? state.term;
    const known = this.highestByTerm.get(commitTerm) ?? 0;
    this.highestByTerm.set(commitTerm, Math.max(known, observation.index));
    this.highest = Math.max(this.highest, observation.index);
    this.collect(record2, state, observation.index, observation.term);
  }
  /** Highest index committed in a term before `term`: a leader of `term` must hold it all. */
  committedBefore(term) {
    let highest = 0;
    for (const [commitTerm, index] of this.highestByTerm) {
      if (commitTerm < term && index > highest) {
        highest = index;
      }
    }
    return Math.min(highest, this.collectedTo);
  }
  collect(record2, state, index, term) {
    const end = Math.min(index, this.collectedTo + COLLECT_PER_OBSERVATION_MAX);
    for (let at2 = this.collectedTo + 1; at2 <= end; at2++) {
      const entryTerm = state.termAt(at2) ?? (at2 === index ? term : void 0);
      if (entryTerm !== void 0) {
        this.entries.set(at2, {
          node: record2.node,
          timeUs: record2.timeUs,
          term: entryTerm,
          digest: state.digestAt(at2)
        });
      }
      this.collectedTo = at2;
    }
    this.freshTo = this.collectedTo;
  }
};

// invariants/raft-groups.ts
function raftInvariantsPerGroup(make, options = {}) {
  const template = make();
  const instances = /* @__PURE__ */ new Map();
  const routed = { record: void 0, group: void 0, instance: void 0 };
  let routedCount = 0;
  const several = (view) => Math.max(options.groups?.length ?? 0, serverGroups(view).length, instances.size) > 1;
  const instanceFor = (group, view) => {
    let instance = instances.get(group);
    if (instance === void 0) {
      instance = { invariants: make(), view: narrowed(view, group, options), records: [] };
      instances.set(group, instance);
    }
    return instance;
  };
  const named = (group, verdict, view) => verdict === void 0 || !several(view) ? verdict : `in Raft group ${group}: ${verdict}`;
  const router = template.findIndex((invariant) => invariant.onObservation !== void 0);
  return template.map((first, position) => {
    const invariant = first.observes === void 0 || position === router ? { name: first.name } : { name: first.name, observes: first.observes };
    const wants = position === router && first.observes !== void 0 ? first.observes : void 0;
    if (first.onObservation !== void 0) {
      invariant.onObservation = (record2, view) => {
        if (record2 !== routed.record) {
          const group2 = raftGroupOf(record2);
          routed.record = record2;
          routed.group = group2;
          routed.instance = group2 === void 0 ? void 0 : instanceFor(group2, view);
          routed.instance?.records.push(record2);
          routedCount++;
        }
        const { group, instance } = routed;
        if (group === void 0 || instance === void 0) {
          return void 0;
        }
        if (wants !== void 0 && !wants.includes(record2.observation.type)) {
          return void 0;
        }
        const verdict = instance.invariants[position].onObservation?.(
          record2,
          instance.view
        );
        return verdict === void 0 ? void 0 : named(group, verdict, view);
      };
    }
    if (first.atEnd !== void 0) {
      invariant.atEnd = (view, observations) => {
        for (const group of options.groups ?? serverGroups(view)) {
          instanceFor(group, view);
        }
        const byGroup = routedCount === observations.length ? void 0 : observationsByGroup(observations);
        for (const [group, instance] of instances) {
          const check = instance.invariants[position];
          const records = byGroup === void 0 ? instance.records : byGroup.get(group) ?? [];
          const verdict = check.atEnd?.(instance.view, records);
          if (typeof verdict === "object") {
            const undecided = named(group, verdict.undecided, view);
            return { undecided };
          }
          if (verdict !== void 0) {
            return named(group, verdict, view);
          }
        }
        return void 0;
      };
    }
    return invariant;
  });
}
function serverGroups(view) {
  return view.groups.filter((group) => !group.client && group.members.length > 0).map((group) => group.name);
}
function observationsByGroup(observations) {
  const byGroup = /* @__PURE__ */ new Map();
  for (const record2 of observations) {
    const group = raftGroupOf(record2);
    if (group === void 0) {
      continue;
    }
    let list3 = byGroup.get(group);
    if (list3 === void 0) {
      list3 = [];
      byGroup.set(group, list3);
    }
    list3.push(record2);
  }
  return byGroup;
}
function narrowed(view, group, options) {
  const isTopologyGroup = view.groups.some((candidate2) => candidate2.name === group);
  const servers = isTopologyGroup ? view.members(group) : view.servers;
  let history;
  let historyFrom = -1;
  return {
    get servers() {
      return servers;
    },
    get clients() {
      return options.clientsOf?.(view, group) ?? view.clients;
    },
    get groups() {
      return view.groups;
    },
    members: (name) => view.members(name),
    groupOf: (node) => view.groupOf(node),
    get timeUs() {
      return view.timeUs;
    },
    get phase() {
      return view.phase;
    },
    isUp: (node) => view.isUp(node),
    inspect: (node) => raftState(view, node, group),
    name: (node) => view.name(node),
    get history() {
      if (history === void 0 || historyFrom !== view.history.length) {
        history = view.history.filter((operation) => operation.stream === group);
        historyFrom = view.history.length;
      }
      return history;
    },
    get messagesSent() {
      return view.messagesSent;
    },
    get bytesSent() {
      return view.bytesSent;
    },
    ...view.fileSize === void 0 ? {} : { fileSize: view.fileSize },
    ...view.mediaFaults === void 0 ? {} : { mediaFaults: view.mediaFaults },
    ...view.storedDamage === void 0 ? {} : { storedDamage: view.storedDamage },
    ...view.durableFile === void 0 ? {} : { durableFile: view.durableFile }
  };
}

// systems/raft/codec.ts
import * as zlib from "node:zlib";

// systems/big-endian.ts
function getU8(bytes, at2) {
  return bytes[at2];
}
function getU16(bytes, at2) {
  return (bytes[at2] << 8 | bytes[at2 + 1]) >>> 0;
}
function getU32(bytes, at2) {
  return (bytes[at2] << 24 | bytes[at2 + 1] << 16 | bytes[at2 + 2] << 8 | bytes[at2 + 3]) >>> 0;
}
function getI32(bytes, at2) {
  return getU32(bytes, at2) | 0;
}
function getU64(bytes, at2) {
  return getU32(bytes, at2) * 4294967296 + getU32(bytes, at2 + 4);
}
function putU32(bytes, at2, value) {
  bytes[at2] = value >>> 24;
  bytes[at2 + 1] = value >>> 16 & 255;
  bytes[at2 + 2] = value >>> 8 & 255;
  bytes[at2 + 3] = value & 255;
}

// systems/raft/codec.ts
var CRC_TABLES = (() => {
  const tables = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 3988292384 ^ c >>> 1 : c >>> 1;
    }
    tables[n] = c >>> 0;
  }
  for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) {
      const previous = tables[(t - 1) * 256 + n];
      tables[t * 256 + n] = (tables[previous & 255] ^ previous >>> 8) >>> 0;
    }
  }
  return tables;
})();
function crc32Range(bytes, from2, to) {
  const t = CRC_TABLES;
  let crc = -1;
  let i = from2;
  for (; i + 8 <= to; i += 8) {
    const word = crc ^ (bytes[i] | bytes[i + 1] << 8 | bytes[i + 2] << 16 | bytes[i + 3] << 24);
    crc = t[1792 + (word & 255)] ^ t[1536 + (word >>> 8 & 255)] ^ t[1280 + (word >>> 16 & 255)] ^ t[1024 + (word >>> 24)] ^ t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < to; i++) {
    crc = t[(crc ^ bytes[i]) & 255] ^ crc >>> 8;
  }
  return (crc ^ -1) >>> 0;
}
var NATIVE_CRC_FROM_BYTES = 512;
var nativeCrc32 = typeof zlib.crc32 === "function" ? (data) => zlib.crc32(data) >>> 0 : void 0;
function crc323(data) {
  if (nativeCrc32 !== void 0 && data.length >= NATIVE_CRC_FROM_BYTES) {
    return nativeCrc32(data);
  }
  return crc32Range(data, 0, data.length);
}
var Writer = class {
  bytes = new Uint8Array(64);
  view = new DataView(this.bytes.buffer);
  length = 0;
  ensure(extra) {
    if (this.length + extra <= this.bytes.length) {
      return;
    }
    let size = this.bytes.length * 2;
    while (size < this.length + extra) {
      size *= 2;
    }
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
  u8(value) {
    this.ensure(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }
  reset() {
    this.length = 0;
  }
  u32(value) {
    if (!(Number.isInteger(value) && value >= 0 && value <= 4294967295)) {
      fail(`u32 out of range: ${value}`);
    }
    this.ensure(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
  }
  u64(value) {
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      fail(`u64 out of range: ${value}`);
    }
    this.u32(Math.floor(value / 4294967296));
    this.u32(value >>> 0);
  }
  raw(data) {
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  setU32(at2, value) {
    this.view.setUint32(at2, value);
  }
  result() {
    return this.bytes.slice(0, this.length);
  }
  /** What was written, as a view that the next write overwrites. */
  written() {
    return this.bytes.subarray(0, this.length);
  }
  /** CRC-32 of what was written from `from` on, read in place. */
  crc32From(from2) {
    return this.length - from2 >= NATIVE_CRC_FROM_BYTES ? crc323(this.bytes.subarray(from2, this.length)) : crc32Range(this.bytes, from2, this.length);
  }
};
var DecodeError = class extends Error {
};
var Reader = class {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  bytes;
  view;
  offset = 0;
  need(count2) {
    if (this.offset + count2 > this.bytes.length) {
      throw new DecodeError("record payload is too short");
    }
  }
  u8() {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u32() {
    this.need(4);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }
  u64() {
    const hi = this.u32();
    const lo = this.u32();
    const value = hi * 4294967296 + lo;
    if (!Number.isSafeInteger(value)) {
      throw new DecodeError("u64 beyond the safe integer range");
    }
    return value;
  }
  rest() {
    const out = this.bytes.slice(this.offset);
    this.offset = this.bytes.length;
    return out;
  }
  done() {
    if (this.offset !== this.bytes.length) {
      throw new DecodeError("trailing bytes in record");
    }
  }
};
var TYPE_CODES = { "hard-state": 1, entry: 2, "snapshot-meta": 3, truncate: 4 };
var KIND_CODES = { command: 1, config: 2, noop: 3 };
var KINDS = { 1: "command", 2: "config", 3: "noop" };
var HEADER_BYTES = 8;
var BODY_PREFIX_BYTES = 6;
var MAX_RECORD_BYTES = 64 * 1024 * 1024;
function writePayload(w, record2) {
  switch (record2.type) {
    case "hard-state": {
      const { term, vote, commit } = record2.hardState;
      w.u64(term);
      w.u8(vote === null ? 0 : 1);
      w.u32(vote ?? 0);
      w.u64(commit);
      return;
    }
    case "entry":
      w.u64(record2.entry.index);
      w.u64(record2.entry.term);
      w.u8(KIND_CODES[record2.entry.kind]);
      w.raw(record2.entry.data);
      return;
    case "snapshot-meta":
      writeMeta(w, record2.meta);
      return;
    case "truncate":
      w.u64(record2.from);
      return;
  }
}
function writeMeta(w, meta) {
  w.u64(meta.lastIncludedIndex);
  w.u64(meta.lastIncludedTerm);
  w.u32(meta.voters.length);
  for (const id of meta.voters) {
    w.u32(id);
  }
}
function readMeta(r) {
  const lastIncludedIndex = r.u64();
  const lastIncludedTerm = r.u64();
  const count2 = r.u32();
  if (count2 > 1 << 16) {
    throw new DecodeError("implausible voter count");
  }
  const voters = [];
  for (let i = 0; i < count2; i++) {
    voters.push(r.u32());
  }
  return { lastIncludedIndex, lastIncludedTerm, voters };
}
function readPayload(type, r) {
  switch (type) {
    case TYPE_CODES["hard-state"]: {
      const term = r.u64();
      const hasVote = r.u8();
      const vote = r.u32();
      const commit = r.u64();
      r.done();
      return { type: "hard-state", hardState: { term, vote: hasVote === 1 ? vote : null, commit } };
    }
    case TYPE_CODES.entry: {
      const index = r.u64();
      const term = r.u64();
      const kind = KINDS[r.u8()];
      if (kind === void 0) {
        throw new DecodeError("unknown entry kind");
      }
      return { type: "entry", entry: { index, term, kind, data: r.rest() } };
    }
    case TYPE_CODES["snapshot-meta"]: {
      const meta = readMeta(r);
      r.done();
      return { type: "snapshot-meta", meta };
    }
    case TYPE_CODES.truncate: {
      const from2 = r.u64();
      r.done();
      return { type: "truncate", from: from2 };
    }
    default:
      throw new DecodeError(`unknown record type ${type}`);
  }
}
var batchWriter = new Writer();
function encodeBatch(batch, records, startsFile) {
  writeBatch(batch, records, startsFile);
  return batchWriter.result();
}
function encodeBatchTransient(batch, records, startsFile) {
  writeBatch(batch, records, startsFile);
  return batchWriter.written();
}
var FLAG_LAST_OF_BATCH = 1;
var FLAG_FIRST_OF_FILE = 2;
function writeBatch(batch, records, startsFile) {
  assert(records.length > 0, "a batch holds at least one record");
  const w = batchWriter;
  w.reset();
  records.forEach((record2, position) => {
    const start2 = w.length;
    w.u32(0);
    w.u32(0);
    w.u8(TYPE_CODES[record2.type]);
    w.u8(
      (position === records.length - 1 ? FLAG_LAST_OF_BATCH : 0) | (startsFile && position === 0 ? FLAG_FIRST_OF_FILE : 0)
    );
    w.u32(batch);
    writePayload(w, record2);
    const bodyLength = w.length - start2 - HEADER_BYTES;
    w.setU32(start2, bodyLength);
    w.setU32(start2 + 4, w.crc32From(start2 + HEADER_BYTES));
  });
}
function parseRecord(bytes, offset) {
  if (offset + HEADER_BYTES > bytes.length) {
    return "partial record header";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(offset);
  if (length < BODY_PREFIX_BYTES || length > MAX_RECORD_BYTES) {
    return `implausible record length ${length}`;
  }
  const end = offset + HEADER_BYTES + length;
  if (end > bytes.length) {
    return "record runs past the end of the file";
  }
  const body = bytes.subarray(offset + HEADER_BYTES, end);
  if (crc323(body) !== view.getUint32(offset + 4)) {
    return "checksum mismatch";
  }
  const r = new Reader(body);
  try {
    const type = r.u8();
    const flags = r.u8();
    const batch = r.u32();
    return {
      record: readPayload(type, r),
      batch,
      last: (flags & FLAG_LAST_OF_BATCH) !== 0,
      firstOfFile: (flags & FLAG_FIRST_OF_FILE) !== 0,
      end
    };
  } catch (error) {
    if (error instanceof DecodeError) {
      return error.message;
    }
    throw error;
  }
}
function decodeLog2(bytes) {
  const records = [];
  let pending = [];
  let offset = 0;
  let validBytes = 0;
  let batch = -1;
  let batchOpen = false;
  let failure = "";
  while (offset < bytes.length) {
    const parsed = parseRecord(bytes, offset);
    if (typeof parsed === "string") {
      failure = parsed;
      break;
    }
    if (parsed.firstOfFile !== (offset === 0)) {
      failure = offset === 0 ? `the record at offset 0 is not a file's first (batch ${parsed.batch}, misdirected?)` : `a file's first record at offset ${offset}`;
      break;
    }
    const expected = batchOpen ? batch : batch + 1;
    if (batch >= 0 && parsed.batch !== expected) {
      failure = `record of batch ${parsed.batch} where batch ${expected} was expected`;
      break;
    }
    batch = parsed.batch;
    pending.push(parsed.record);
    offset = parsed.end;
    batchOpen = !parsed.last;
    if (parsed.last) {
      records.push(...pending);
      pending = [];
      validBytes = offset;
    }
  }
  const nextBatch = batch + 1;
  if (offset === bytes.length && !batchOpen) {
    return { records, nextBatch, validBytes, status: { kind: "ok" } };
  }
  const reason = failure === "" ? "the last batch is incomplete" : failure;
  const tornBatch = batchOpen ? batch : batch + 1;
  const later = findLaterBatch(bytes, offset + 1, tornBatch);
  if (later !== null) {
    return {
      records,
      nextBatch,
      validBytes,
      status: { kind: "corrupt", offset, reason: `${reason}, yet batch ${later} follows it` }
    };
  }
  return {
    records,
    nextBatch: tornBatch,
    validBytes,
    status: { kind: "torn-tail", truncateAt: validBytes, reason, batch: tornBatch }
  };
}
function findLaterBatch(bytes, from2, tornBatch) {
  for (let at2 = from2; at2 + HEADER_BYTES + BODY_PREFIX_BYTES <= bytes.length; at2++) {
    const parsed = parseRecord(bytes, at2);
    if (typeof parsed !== "string" && parsed.batch !== tornBatch) {
      return parsed.batch;
    }
  }
  return null;
}
var SYNC_MARK_SLOTS = 2;
var SYNC_MARK_SLOT_BYTES = 512;
var SYNC_MARK_MAGIC = 1179407193;
var SYNC_MARK_BYTES = 20;
function encodeSyncMark(slot, batch) {
  assert(slot >= 0 && slot < SYNC_MARK_SLOTS, "a sync mark slot is 0 or 1");
  if (!(Number.isSafeInteger(batch) && batch >= 0)) {
    fail(`a sync mark's batch is a u64: ${batch}`);
  }
  const out = new Uint8Array(SYNC_MARK_BYTES);
  putU32(out, 0, SYNC_MARK_MAGIC);
  putU32(out, 4, slot);
  putU32(out, 8, Math.floor(batch / 4294967296));
  putU32(out, 12, batch >>> 0);
  putU32(out, 16, crc32Range(out, 0, 16));
  return { offsetBytes: slot * SYNC_MARK_SLOT_BYTES, bytes: out };
}
function decodeSyncMarks(bytes) {
  const slots = [];
  let syncedThrough = null;
  let newestSlot = -1;
  for (let slot = 0; slot < SYNC_MARK_SLOTS; slot++) {
    const region = bytes.subarray(
      slot * SYNC_MARK_SLOT_BYTES,
      slot * SYNC_MARK_SLOT_BYTES + SYNC_MARK_BYTES
    );
    const mark2 = decodeSyncMarkSlot(region, slot);
    slots.push(mark2);
    if (mark2.kind === "valid" && (syncedThrough === null || mark2.batch > syncedThrough)) {
      syncedThrough = mark2.batch;
      newestSlot = slot;
    }
  }
  return { slots, syncedThrough, nextSlot: newestSlot === 0 ? 1 : 0 };
}
function decodeSyncMarkSlot(region, slot) {
  if (region.every((byte) => byte === 0)) {
    return { kind: "absent" };
  }
  if (region.length < SYNC_MARK_BYTES) {
    return { kind: "bad" };
  }
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const valid = view.getUint32(0) === SYNC_MARK_MAGIC && view.getUint32(4) === slot && crc323(region.subarray(0, 16)) === view.getUint32(16);
  if (!valid) {
    return { kind: "bad" };
  }
  const batch = view.getUint32(8) * 4294967296 + view.getUint32(12);
  return Number.isSafeInteger(batch) ? { kind: "valid", batch } : { kind: "bad" };
}
function tailVerdict(tornBatch, marks) {
  if (marks.slots.some((slot) => slot.kind === "bad")) {
    return "refuse";
  }
  return marks.syncedThrough !== null && tornBatch <= marks.syncedThrough ? "refuse" : "truncate";
}
function marksNeedRepair(marks, lastBatch) {
  return lastBatch >= 0 && (marks.slots.some((slot) => slot.kind === "bad") || (marks.syncedThrough ?? -1) < lastBatch);
}
function replayLog(records) {
  let hardState = { term: 0, vote: null, commit: 0 };
  let snapshotMeta = { lastIncludedIndex: 0, lastIncludedTerm: 0, voters: [] };
  let entries = [];
  for (const record2 of records) {
    switch (record2.type) {
      case "hard-state":
        hardState = record2.hardState;
        break;
      case "snapshot-meta":
        snapshotMeta = record2.meta;
        entries = entries.filter((e) => e.index > record2.meta.lastIncludedIndex);
        break;
      case "truncate":
        entries = entries.filter((e) => e.index < record2.from);
        break;
      case "entry": {
        const last = entries.at(-1)?.index ?? snapshotMeta.lastIncludedIndex;
        assert(
          record2.entry.index <= last + 1,
          `log record for entry ${record2.entry.index} leaves a gap after ${last}`
        );
        entries = entries.filter((e) => e.index < record2.entry.index);
        entries.push(record2.entry);
        break;
      }
    }
  }
  return { hardState, snapshotMeta, entries };
}
function readyRecords(ready) {
  const records = [];
  if (ready.snapshotToPersist !== void 0) {
    records.push({ type: "snapshot-meta", meta: ready.snapshotToPersist.meta });
  }
  if (ready.truncateFrom !== void 0) {
    records.push({ type: "truncate", from: ready.truncateFrom });
  }
  for (const entry of ready.entriesToAppend) {
    records.push({ type: "entry", entry });
  }
  if (ready.hardState !== void 0) {
    records.push({ type: "hard-state", hardState: ready.hardState });
  }
  return records;
}
var SNAPSHOT_MAGIC = 1179407182;
var SNAPSHOT_VERSION = 1;
function encodeSnapshotFile(snapshot) {
  const body = new Writer();
  writeMeta(body, snapshot.meta);
  body.u32(snapshot.data.length);
  body.raw(snapshot.data);
  const bodyBytes = body.result();
  const w = new Writer();
  w.u32(SNAPSHOT_MAGIC);
  w.u32(SNAPSHOT_VERSION);
  w.u32(bodyBytes.length);
  w.u32(crc323(bodyBytes));
  w.raw(bodyBytes);
  return w.result();
}
function decodeSnapshotFile(bytes) {
  if (bytes.length < 16) {
    return { ok: false, reason: "snapshot file shorter than its header" };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== SNAPSHOT_MAGIC) {
    return { ok: false, reason: "not a snapshot file (bad magic)" };
  }
  if (view.getUint32(4) !== SNAPSHOT_VERSION) {
    return { ok: false, reason: `unsupported snapshot version ${view.getUint32(4)}` };
  }
  const length = view.getUint32(8);
  if (16 + length !== bytes.length) {
    return {
      ok: false,
      reason: `snapshot body is ${bytes.length - 16} bytes, header says ${length}`
    };
  }
  const body = bytes.subarray(16);
  if (crc323(body) !== view.getUint32(12)) {
    return { ok: false, reason: "snapshot checksum mismatch" };
  }
  try {
    const r = new Reader(body);
    const meta = readMeta(r);
    const size = r.u32();
    const data = r.rest();
    if (data.length !== size) {
      return { ok: false, reason: "snapshot data length mismatch" };
    }
    return { ok: true, snapshot: { meta, data } };
  } catch (error) {
    if (error instanceof DecodeError) {
      return { ok: false, reason: error.message };
    }
    throw error;
  }
}

// invariants/raft-recovery.ts
function refusesOnlyOnMediaFault() {
  return {
    name: "refuses-only-on-media-fault",
    observes: ["corruption-detected"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      if (observation.type !== "corruption-detected") {
        return void 0;
      }
      if (view.mediaFaults === void 0 || view.mediaFaults(record2.node) > 0) {
        return void 0;
      }
      return `${view.name(record2.node)} refused to start at ${formatTime(record2.timeUs)} (${observation.reason}, at byte ${observation.offset}), yet no media fault ever hit its disk: crashes, torn unsynced tails and failed fsyncs leave synced data intact, so recovery misread its own files`;
    }
  };
}
function decodeDurableRaft(logImage, snapshotImage) {
  const decoded = decodeLog2(logImage ?? new Uint8Array(0));
  if (decoded.status.kind === "corrupt") {
    return `its synced log is damaged at byte ${decoded.status.offset} (${decoded.status.reason})`;
  }
  let term = 0;
  let vote = null;
  let commit = 0;
  let logSnapshotIndex = 0;
  let logSnapshotTerm = 0;
  let logVoters = [];
  const entries = /* @__PURE__ */ new Map();
  const full = /* @__PURE__ */ new Map();
  let lastIndex = 0;
  const dropFrom = (from2) => {
    for (let index = from2; index <= lastIndex; index++) {
      entries.delete(index);
      full.delete(index);
    }
    lastIndex = Math.min(lastIndex, from2 - 1);
  };
  for (const record2 of decoded.records) {
    switch (record2.type) {
      case "hard-state":
        ({ term, vote, commit } = record2.hardState);
        break;
      case "snapshot-meta": {
        const meta = record2.meta;
        for (let index = logSnapshotIndex + 1; index <= meta.lastIncludedIndex; index++) {
          entries.delete(index);
          full.delete(index);
        }
        logSnapshotIndex = meta.lastIncludedIndex;
        logSnapshotTerm = meta.lastIncludedTerm;
        logVoters = meta.voters;
        lastIndex = Math.max(lastIndex, logSnapshotIndex);
        break;
      }
      case "truncate":
        dropFrom(record2.from);
        break;
      case "entry": {
        const { index, term: entryTerm, kind, data } = record2.entry;
        if (index > lastIndex + 1) {
          return `its synced log holds entry ${index} right after entry ${lastIndex}: a gap`;
        }
        dropFrom(index);
        entries.set(index, { index, term: entryTerm, digest: entryDigest(kind, data) });
        full.set(index, record2.entry);
        lastIndex = index;
        break;
      }
    }
  }
  let snapshotIndex = logSnapshotIndex;
  let snapshotTerm = logSnapshotTerm;
  let snapshotVoters = logVoters;
  let snapshotDataDigest;
  let snapshotData;
  if (snapshotImage !== void 0) {
    const snapshot = decodeSnapshotFile(snapshotImage);
    if (!snapshot.ok) {
      return `its synced snapshot file is damaged (${snapshot.reason})`;
    }
    const meta = snapshot.snapshot.meta;
    snapshotData = snapshot.snapshot.data;
    snapshotDataDigest = digestValue(snapshotData);
    if (meta.lastIncludedIndex > logSnapshotIndex) {
      const boundary = entries.get(meta.lastIncludedIndex);
      const suffixKept = boundary !== void 0 && boundary.term === meta.lastIncludedTerm;
      for (const index of [...entries.keys()]) {
        if (index <= meta.lastIncludedIndex || !suffixKept) {
          entries.delete(index);
          full.delete(index);
        }
      }
      lastIndex = suffixKept ? Math.max(lastIndex, meta.lastIncludedIndex) : meta.lastIncludedIndex;
    }
    snapshotIndex = Math.max(meta.lastIncludedIndex, logSnapshotIndex);
    if (meta.lastIncludedIndex >= logSnapshotIndex) {
      snapshotTerm = meta.lastIncludedTerm;
      snapshotVoters = meta.voters;
    }
  } else if (logSnapshotIndex > 0) {
    return `its synced log records a snapshot at index ${logSnapshotIndex}, but there is no snapshot file`;
  }
  const list3 = [...entries.values()].sort((a, b) => a.index - b.index);
  const last = list3.at(-1)?.index ?? snapshotIndex;
  return {
    term,
    vote,
    // The commit index is a hint: never below the snapshot, never beyond the log.
    commit: Math.min(Math.max(commit, snapshotIndex), last),
    snapshotIndex,
    snapshotTerm,
    snapshotVoters,
    snapshotDataDigest,
    entries: list3,
    snapshotData,
    logEntries: [...full.values()].sort((a, b) => a.index - b.index)
  };
}
function recoveryDifference(recovered, durable, name = (node) => `node ${node}`) {
  const scalar = (what, got2, want2) => got2 === want2 ? void 0 : `${what} ${got2} where its disk holds ${want2}`;
  const voteName = (vote) => vote === null ? "no vote" : `a vote for ${name(vote)}`;
  const first = scalar("term", recovered.term, durable.term) ?? (recovered.vote === durable.vote ? void 0 : `${voteName(recovered.vote)} where its disk holds ${voteName(durable.vote)}`) ?? scalar("snapshot index", recovered.snapshotIndex, durable.snapshotIndex) ?? scalar("snapshot term", recovered.snapshotTerm, durable.snapshotTerm);
  if (first !== void 0) {
    return first;
  }
  if (durable.snapshotIndex > 0) {
    if (recovered.snapshotVoters.join(",") !== durable.snapshotVoters.join(",")) {
      return `snapshot voters [${recovered.snapshotVoters.join(", ")}] where its disk holds [${durable.snapshotVoters.join(", ")}]`;
    }
    if (recovered.snapshotDataDigest !== durable.snapshotDataDigest) {
      return `snapshot data that differs from its snapshot file's`;
    }
    if (recovered.stateMachineDigest !== durable.snapshotDataDigest) {
      return `a state machine that does not encode back to its snapshot file's data (restored wrongly)`;
    }
  }
  const got = recovered.entries;
  const want = durable.entries;
  const count2 = Math.max(got.length, want.length);
  for (let position = 0; position < count2; position++) {
    const mine = got[position];
    const disk = want[position];
    if (mine === void 0 || disk === void 0) {
      const lastGot = got.at(-1)?.index ?? recovered.snapshotIndex;
      const lastWant = want.at(-1)?.index ?? durable.snapshotIndex;
      return `a log ending at index ${lastGot} where its disk holds entries through ${lastWant}`;
    }
    if (mine.index !== disk.index || mine.term !== disk.term || mine.digest !== disk.digest) {
      return `entry ${mine.index} of term ${mine.term} where its disk holds entry ${disk.index} of term ${disk.term}${mine.digest === disk.digest ? "" : " with other content"}`;
    }
  }
  return scalar("commit index", recovered.commit, durable.commit);
}
function recoveredEqualsDurable() {
  const startedFrom = /* @__PURE__ */ new Map();
  return {
    name: "recovered-equals-durable",
    observes: ["recovery-replayed", "restarted"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      if (observation.type === "recovery-replayed") {
        return replayDifference(record2.node, observation, startedFrom, view);
      }
      if (observation.type !== "restarted" || view.durableFile === void 0) {
        return void 0;
      }
      startedFrom.delete(record2.node);
      const recovered = serverState(view, record2.node)?.recovered;
      if (recovered === void 0) {
        return void 0;
      }
      const durable = decodeDurableRaft(
        view.durableFile(record2.node, recovered.logFile),
        view.durableFile(record2.node, recovered.snapshotFile)
      );
      const who2 = `${view.name(record2.node)} restarted at ${formatTime(record2.timeUs)}`;
      if (typeof durable === "string") {
        return excused(view, record2.node) ? void 0 : `${who2} and took part, though ${durable} and no media fault hit it: synced data was damaged, or recovery should have refused`;
      }
      const difference = recoveryDifference(recovered, durable, (node) => view.name(node));
      if (difference !== void 0) {
        return `${who2} with ${difference}: recovery must rebuild exactly the synced state (a lost vote or acknowledged entry breaks Raft's safety)`;
      }
      startedFrom.set(record2.node, durable);
      return void 0;
    }
  };
}
function replayDifference(node, replayed, startedFrom, view) {
  const durable = startedFrom.get(node);
  startedFrom.delete(node);
  const state = serverState(view, node);
  if (durable === void 0 || state?.rebuildStateMachine === void 0) {
    return void 0;
  }
  const entries = durable.logEntries.filter((entry) => entry.index <= replayed.index);
  const expected = state.rebuildStateMachine(durable.snapshotData, entries);
  if (expected === void 0) {
    return `${view.name(node)} replayed its log to index ${replayed.index} after restarting, but its state machine, which declares fresh(), made no fresh copy to replay its durable snapshot and entries into: the restart cannot be checked against its disk`;
  }
  if (expected === replayed.stateDigest) {
    return void 0;
  }
  return `${view.name(node)} replayed its log to index ${replayed.index} after restarting, and its state machine differs from the durable snapshot with the durable entries through ${replayed.index} applied: the restart replayed the wrong entries or restored the wrong state`;
}
function excused(view, node) {
  return (view.mediaFaults?.(node) ?? 0) > 0;
}
function refusingAfterMediaFault(view, observations) {
  const refusing = /* @__PURE__ */ new Set();
  for (const record2 of observations) {
    const type = record2.observation.type;
    if (type === "corruption-detected") {
      refusing.add(record2.node);
    } else if (type === "restarted") {
      refusing.delete(record2.node);
    }
  }
  return [...refusing].filter((node) => view.isUp(node) && excused(view, node)).sort((a, b) => a - b);
}
function quorumLostToMediaFaults(view, observations) {
  const refusing = refusingAfterMediaFault(view, observations);
  if (refusing.length === 0) {
    return void 0;
  }
  const voterSets = [];
  for (const node of view.servers) {
    const voters = serverState(view, node)?.voters;
    if (voters !== void 0) {
      voterSets.push(voters);
    }
  }
  if (voterSets.length === 0) {
    voterSets.push(view.servers);
  }
  for (const voters of voterSets) {
    const running = voters.filter((voter) => !refusing.includes(voter)).length;
    if (running < Math.floor(voters.length / 2) + 1) {
      const names = refusing.map((node) => view.name(node)).join(", ");
      return `${names} refused to start after media faults hit their disks, leaving ${running} of the ${voters.length} voters [${voters.map((voter) => view.name(voter)).join(", ")}] running: no majority`;
    }
  }
  return void 0;
}

// invariants/raft-end.ts
function isRecord(value) {
  return typeof value === "object" && value !== null;
}
function ackFromOperation(operation) {
  const input = operation.input;
  if (operation.status !== "ok" || !isRecord(input) || input["f"] !== "propose") {
    return void 0;
  }
  const output = operation.output;
  const id = input["id"];
  assert(
    typeof id === "string" && isRecord(output) && typeof output["index"] === "number" && typeof output["term"] === "number",
    `propose operation ${operation.id} must have input {f, id: string} and output {index, term}`
  );
  return {
    id,
    index: output["index"],
    term: output["term"],
    node: operation.client,
    timeUs: operation.returnUs ?? operation.callUs
  };
}
function collectAcks(view, observations) {
  const acks = /* @__PURE__ */ new Map();
  const add = (ack) => {
    const key2 = `${ack.index}:${ack.id}`;
    if (!acks.has(key2)) {
      acks.set(key2, ack);
    }
  };
  for (const operation of view.history) {
    const ack = ackFromOperation(operation);
    if (ack !== void 0) {
      add(ack);
    }
  }
  for (const record2 of observations) {
    const observation = raftObservation(record2);
    if (observation.type === "proposal-acked") {
      const { id, index, term } = observation;
      add({ id, index, term, node: record2.node, timeUs: record2.timeUs });
    }
  }
  return [...acks.values()];
}
function firstApplies(observations) {
  const applied = /* @__PURE__ */ new Map();
  for (const record2 of observations) {
    const observation = raftObservation(record2);
    if (observation.type === "applied" && !applied.has(observation.index)) {
      applied.set(observation.index, {
        node: record2.node,
        timeUs: record2.timeUs,
        digest: observation.digest
      });
    }
  }
  return applied;
}
function ackedNeverLost(options = {}) {
  const digestOfId = options.digestOfId ?? commandIdDigest;
  const checkServer = (view, ack, expected, node, state) => {
    const acked = () => `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}`;
    if (state.commitIndex >= ack.index) {
      const term = state.termAt(ack.index);
      if (term !== void 0 && term !== ack.term) {
        return `${acked()}, but at the end ${view.name(node)} has committed term ${term} at that index: the acknowledged entry was overwritten`;
      }
    }
    if (state.appliedIndex < ack.index) {
      return void 0;
    }
    const digest = state.appliedDigests.get(ack.index) ?? (state.commitIndex >= ack.index ? state.digestAt(ack.index) : void 0);
    if (digest !== void 0 && digest !== expected) {
      return `${acked()}, but at the end ${view.name(node)} has applied a different entry there (digest ${formatDigest(digest)}, expected ${formatDigest(expected)}): the acknowledged command was lost`;
    }
    return void 0;
  };
  const checkAck = (view, ack, applied, quorumLost) => {
    const expected = digestOfId(ack.id);
    const first = applied.get(ack.index);
    if (first !== void 0 && first.digest !== expected) {
      return `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}, but ${at(view, first)} applied a different entry there (digest ${formatDigest(first.digest)}, expected ${formatDigest(expected)}): the acknowledged command was lost`;
    }
    let highest = 0;
    for (const node of view.servers) {
      const state = serverState(view, node);
      if (state === void 0) {
        continue;
      }
      highest = Math.max(highest, state.appliedIndex);
      const verdict = checkServer(view, ack, expected, node, state);
      if (verdict !== void 0) {
        return verdict;
      }
    }
    if (highest < ack.index && quorumLost() === void 0) {
      return `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}, but at the end no running server has applied that far (the furthest is ${highest}): the acknowledged command was lost`;
    }
    return void 0;
  };
  return {
    name: "acked-never-lost",
    atEnd(view, observations) {
      const acks = collectAcks(view, observations);
      if (acks.length === 0) {
        return void 0;
      }
      const applied = firstApplies(observations);
      let quorumLost;
      const lost = () => {
        quorumLost ??= { why: quorumLostToMediaFaults(view, observations) };
        return quorumLost.why;
      };
      for (const ack of acks) {
        const verdict = checkAck(view, ack, applied, lost);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      return void 0;
    }
  };
}
var DEFAULT_COMMIT_WITHIN_US = 3e6;
function leaderVerdict(view) {
  const leaders = [];
  for (const node of view.servers) {
    const state = serverState(view, node);
    if (state?.role === "leader") {
      leaders.push({ node, state });
    }
  }
  const end = formatTime(view.timeUs);
  if (leaders.length !== 1) {
    const named = leaders.map(({ node, state }) => `${view.name(node)} (term ${state.term})`);
    const found = leaders.length === 0 ? "no leader" : `${leaders.length} leaders: ${named.join(", ")}`;
    return `after the settle phase, at ${end}, there is ${found}; a healed cluster must settle on exactly one`;
  }
  const { node: leader, state: leading } = leaders[0];
  for (const node of leading.voters) {
    const state = serverState(view, node);
    if (state !== void 0 && state.term !== leading.term) {
      return `after the settle phase, at ${end}, ${view.name(node)} is at term ${state.term} while ${view.name(leader)} leads term ${leading.term}: a voter has not caught up with the leader`;
    }
  }
  return void 0;
}
function raftLivenessInvariant(options = {}) {
  const [perGroup3] = raftInvariantsPerGroup(() => [livenessForOneGroup(options)], options);
  return perGroup3;
}
function livenessForOneGroup(options) {
  const commitWithinUs = options.commitWithinUs ?? DEFAULT_COMMIT_WITHIN_US;
  let settleStartUs = options.settleStartUs;
  let committedBeforeSettle = 0;
  let firstNewCommand;
  const progressVerdict = (view, start2) => {
    const began = `the settle phase began at ${formatTime(start2)}`;
    if (firstNewCommand === void 0) {
      return `${began}, but by the end (${formatTime(view.timeUs)}) no new command was applied (everything applied was at or below index ${committedBeforeSettle}, committed before it): the cluster did not recover`;
    }
    const tookUs = firstNewCommand.timeUs - start2;
    if (tookUs > commitWithinUs) {
      return `${began}, but the first new command (index ${firstNewCommand.index}, applied by ${at(view, firstNewCommand)}) took ${formatTime(tookUs)}, more than the ${formatTime(commitWithinUs)} allowed`;
    }
    return void 0;
  };
  return {
    name: "liveness-after-settle",
    onObservation(record2, view) {
      if (settleStartUs === void 0 && view.phase === "settle") {
        settleStartUs = record2.timeUs;
      }
      const observation = raftObservation(record2);
      const settled = settleStartUs !== void 0 && record2.timeUs >= settleStartUs;
      if (observation.type === "committed" && !settled) {
        committedBeforeSettle = Math.max(committedBeforeSettle, observation.index);
      }
      const fresh = observation.type === "applied" && observation.kind === "command" && observation.index > committedBeforeSettle;
      if (fresh && settled && firstNewCommand === void 0) {
        firstNewCommand = { node: record2.node, timeUs: record2.timeUs, index: observation.index };
      }
      return void 0;
    },
    atEnd(view, observations) {
      if (quorumLostToMediaFaults(view, observations) !== void 0) {
        return void 0;
      }
      if (settleStartUs === void 0) {
        return view.phase === "settle" ? `no server reported anything after the settle phase began (run ended at ${formatTime(view.timeUs)}): the cluster is dead` : void 0;
      }
      return leaderVerdict(view) ?? (view.clients.length > 0 ? progressVerdict(view, settleStartUs) : void 0);
    }
  };
}
var raftLeaseSometimes = {
  "a leader answered a read under its lease": (record2) => record2.observation.type === "lease-read"
};
var raftMediaFaultSometimes = {
  "a server refused to start on damaged synced data": (record2) => record2.observation.type === "corruption-detected"
};
var DEFAULT_CATCH_UP_US = 2e6;
function raftVotersCatchUp(options = {}) {
  const [perGroup3] = raftInvariantsPerGroup(() => [votersCatchUpForOneGroup(options)], options);
  return perGroup3;
}
function votersCatchUpForOneGroup(options) {
  const catchUpUs = options.catchUpUs ?? DEFAULT_CATCH_UP_US;
  const commits = [];
  return {
    name: "voters-catch-up-after-settle",
    onObservation(record2) {
      const observation = raftObservation(record2);
      const last = commits[commits.length - 1];
      if (observation.type === "committed" && observation.leaderTerm !== null && observation.index > (last?.index ?? 0)) {
        commits.push({ timeUs: record2.timeUs, index: observation.index });
      }
      return void 0;
    },
    atEnd(view, observations) {
      if (view.phase !== "settle" || quorumLostToMediaFaults(view, observations) !== void 0) {
        return void 0;
      }
      const leaders = view.servers.filter((node) => serverState(view, node)?.role === "leader");
      if (leaders.length !== 1) {
        return void 0;
      }
      const leader = leaders[0];
      const leading = serverState(view, leader);
      const byUs = view.timeUs - catchUpUs;
      let owed;
      for (let at2 = commits.length - 1; at2 >= 0; at2--) {
        const commit = commits[at2];
        if (commit.timeUs <= byUs) {
          owed = commit;
          break;
        }
      }
      if (owed === void 0) {
        return void 0;
      }
      for (const node of leading.voters) {
        const state = serverState(view, node);
        if (state !== void 0 && state.appliedIndex < owed.index) {
          return `after the settle phase, at ${formatTime(view.timeUs)}, voter ${view.name(node)} has applied up to index ${state.appliedIndex} (commit index ${state.commitIndex}, log ${state.firstIndex}\u2013${state.lastIndex}, snapshot ${state.snapshotIndex}), but index ${owed.index} was committed at ${formatTime(owed.timeUs)}, ${formatTime(catchUpUs)} before the end, and ${view.name(leader)} leads term ${leading.term}: a running voter did not catch up in a healed network`;
        }
      }
      return void 0;
    }
  };
}
var raftClientSometimes = {
  "a proposal was acknowledged": (record2) => record2.observation.type === "proposal-acked"
};
var raftClientReadSometimes = {
  "a read was answered": (record2) => record2.observation.type === "read-answered"
};
var raftSometimes = {
  // The core reports stepped-down only when a leader gives up leadership.
  "a leader was deposed": (record2) => record2.observation.type === "stepped-down",
  "a snapshot was installed": (record2) => record2.observation.type === "snapshot-installed",
  "a torn tail was recovered": (record2) => record2.observation.type === "torn-tail-recovered",
  // A config entry reaching a state machine: the change is committed, not merely proposed.
  "a membership change completed": (record2) => {
    const observation = raftObservation(record2);
    return observation.type === "applied" && observation.kind === "config";
  }
};

// invariants/raft-reads.ts
var OPEN_READS_MAX = 4096;
function freshReads() {
  let highest;
  const open = /* @__PURE__ */ new Map();
  const readsOf = (node) => {
    let reads = open.get(node);
    if (reads === void 0) {
      reads = /* @__PURE__ */ new Map();
      open.set(node, reads);
    }
    return reads;
  };
  return {
    name: "fresh-reads",
    observes: ["committed", "restarted", "read-requested", "read-served"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      switch (observation.type) {
        case "committed":
          if (observation.index > (highest?.index ?? 0)) {
            highest = { node: record2.node, timeUs: record2.timeUs, index: observation.index };
          }
          return void 0;
        case "restarted":
          open.delete(record2.node);
          return void 0;
        case "read-requested": {
          const reads = readsOf(record2.node);
          if (reads.size >= OPEN_READS_MAX) {
            reads.delete(reads.keys().next().value);
          }
          reads.set(observation.readId, { requestedUs: record2.timeUs, committed: highest });
          return void 0;
        }
        case "read-served": {
          const reads = readsOf(record2.node);
          const read = reads.get(observation.readId);
          reads.delete(observation.readId);
          const missed = read?.committed;
          if (read === void 0 || missed === void 0 || observation.index >= missed.index) {
            return void 0;
          }
          return `${view.name(record2.node)} answered a read at index ${observation.index} at ${formatTime(record2.timeUs)}, but index ${missed.index} had been committed (${view.name(missed.node)} at ${formatTime(missed.timeUs)}) before the read was requested at ${formatTime(read.requestedUs)}: a stale read, from a leader that no longer leads (did it trust a lease that had run out, or skip confirming leadership?)`;
        }
        default:
          return void 0;
      }
    }
  };
}

// invariants/raft-safety.ts
function sourceOf(record2) {
  return { node: record2.node, timeUs: record2.timeUs };
}
function who(view, record2) {
  return at(view, sourceOf(record2));
}
function electionSafety() {
  const leaders = /* @__PURE__ */ new Map();
  return {
    name: "election-safety",
    observes: ["became-leader"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      if (observation.type !== "became-leader") {
        return void 0;
      }
      const first = leaders.get(observation.term);
      if (first === void 0) {
        leaders.set(observation.term, sourceOf(record2));
        return void 0;
      }
      if (first.node === record2.node) {
        return void 0;
      }
      return `${view.name(record2.node)} became leader of term ${observation.term} at ${formatTime(record2.timeUs)}, but ${at(view, first)} already had: two leaders in one term means a vote was granted twice or votes were miscounted`;
    }
  };
}
function leaderAppendOnly() {
  const leading = new PerNode(-1);
  return {
    name: "leader-append-only",
    observes: ["became-leader", "stepped-down", "restarted", "log-truncated"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      switch (observation.type) {
        case "became-leader":
          leading.set(record2.node, observation.term);
          return void 0;
        case "stepped-down":
        case "restarted":
          leading.set(record2.node, -1);
          return void 0;
        case "log-truncated": {
          const term = leading.get(record2.node);
          if (term < 0) {
            return void 0;
          }
          return `${who(view, record2)} truncated its log from index ${observation.from} while it was leader of term ${term}: a leader only appends (did it accept entries or a snapshot from a stale leader?)`;
        }
        default:
          return void 0;
      }
    }
  };
}
var LOG_CHECK_PER_OBSERVATION_MAX = 256;
var TERM_LIMIT = 2 ** 21;
function entryKey(index, term) {
  if (!(term >= 0 && term < TERM_LIMIT)) {
    fail(`term ${term} is out of the supported range`);
  }
  return index * TERM_LIMIT + term;
}
function logMatching() {
  const seen = /* @__PURE__ */ new Map();
  const checked = new PerNode(0);
  const checkEntry = (view, record2, state, index) => {
    const term = state.termAt(index);
    const digest = state.digestAt(index);
    if (term === void 0 || digest === void 0) {
      return void 0;
    }
    const prevTerm = state.termAt(index - 1);
    if (prevTerm !== void 0 && prevTerm > term) {
      return `${who(view, record2)} holds entry ${index} of term ${term} right after entry ${index - 1} of term ${prevTerm}: terms along a log never decrease, so a stale suffix outlived a newer leader's entries (a conflict not truncated?)`;
    }
    const key2 = entryKey(index, term);
    const known = seen.get(key2);
    if (known === void 0) {
      seen.set(key2, { node: record2.node, timeUs: record2.timeUs, digest, prevTerm });
      return void 0;
    }
    if (known.digest !== digest) {
      return `${who(view, record2)} holds entry ${index} of term ${term} with digest ${formatDigest(digest)}, but ${at(view, known)} held entry ${index} of term ${term} with digest ${formatDigest(known.digest)}: two different entries share an index and term`;
    }
    if (prevTerm !== void 0 && known.prevTerm !== void 0 && prevTerm !== known.prevTerm) {
      return `${who(view, record2)} and ${at(view, known)} both hold entry ${index} of term ${term}, but their entries ${index - 1} have terms ${prevTerm} and ${known.prevTerm}: the logs differ before a matching entry (an append skipped its consistency check?)`;
    }
    return void 0;
  };
  const checkNewEntries = (record2, view, spot) => {
    const state = serverState(view, record2.node);
    if (state === void 0) {
      return void 0;
    }
    if (spot >= state.firstIndex && spot <= Math.min(state.lastIndex, checked.get(record2.node))) {
      const verdict = checkEntry(view, record2, state, spot);
      if (verdict !== void 0) {
        return verdict;
      }
    }
    const from2 = Math.max(checked.get(record2.node) + 1, state.firstIndex);
    const to = Math.min(state.lastIndex, from2 + LOG_CHECK_PER_OBSERVATION_MAX - 1);
    for (let index = from2; index <= to; index++) {
      const verdict = checkEntry(view, record2, state, index);
      if (verdict !== void 0) {
        return verdict;
      }
    }
    checked.set(record2.node, Math.max(checked.get(record2.node), to));
    return void 0;
  };
  return {
    name: "log-matching",
    observes: ["committed", "became-leader", "log-truncated", "restarted"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      switch (observation.type) {
        case "committed":
          return checkNewEntries(record2, view, observation.index);
        case "became-leader":
          return checkNewEntries(record2, view, serverState(view, record2.node)?.lastIndex ?? 0);
        case "log-truncated":
          checked.lowerTo(record2.node, observation.from - 1);
          return void 0;
        case "restarted":
          checked.lowerTo(record2.node, observation.lastIndex);
          return void 0;
        default:
          return void 0;
      }
    }
  };
}
var COMPLETENESS_CHECK_PER_OBSERVATION_MAX = 1 << 16;
function leaderCompleteness(shared) {
  const committed = shared ?? new CommittedEntries();
  const verified = new PerNode(0);
  const checkLeader = (record2, view, term) => {
    const state = serverState(view, record2.node);
    if (state === void 0) {
      return void 0;
    }
    const from2 = Math.max(verified.get(record2.node), state.snapshotIndex) + 1;
    const to = Math.min(
      committed.committedBefore(term),
      from2 + COMPLETENESS_CHECK_PER_OBSERVATION_MAX - 1
    );
    for (let index = from2; index <= to; index++) {
      const entry = committed.entries.get(index);
      if (entry === void 0) {
        continue;
      }
      const heldTerm = state.termAt(index);
      const heldDigest = state.digestAt(index);
      const wrongData = entry.digest !== void 0 && heldDigest !== void 0 && heldDigest !== entry.digest;
      if (heldTerm !== entry.term || wrongData) {
        const held = heldTerm === void 0 ? `its log ends at ${state.lastIndex}` : `it holds term ${heldTerm}, digest ${formatDigest(heldDigest)} there`;
        return `${who(view, record2)} became leader of term ${term} without committed entry ${index} (term ${entry.term}, digest ${formatDigest(entry.digest)}, committed per ${at(view, entry)}): ${held}; a committed entry was lost or an out-of-date candidate won`;
      }
    }
    verified.set(record2.node, Math.max(verified.get(record2.node), to));
    return void 0;
  };
  return {
    name: "leader-completeness",
    // The shared tracker collects on `committed`; on other records update() only marks its
    // fresh range empty, which is read right after an update on a `committed` record.
    observes: ["committed", "became-leader", "log-truncated", "restarted"],
    onObservation(record2, view) {
      committed.update(record2, view);
      const observation = raftObservation(record2);
      switch (observation.type) {
        case "became-leader":
          return checkLeader(record2, view, observation.term);
        case "log-truncated":
          verified.lowerTo(record2.node, observation.from - 1);
          return void 0;
        case "restarted":
          verified.lowerTo(record2.node, observation.lastIndex);
          return void 0;
        default:
          return void 0;
      }
    }
  };
}
function stateMachineSafety(shared) {
  const committed = shared ?? new CommittedEntries();
  const applied = /* @__PURE__ */ new Map();
  const againstCommitted = (record2, view, what, index, term, digest) => {
    const entry = committed.entries.get(index);
    if (entry === void 0) {
      return void 0;
    }
    const digestDiffers = digest !== void 0 && entry.digest !== void 0 && digest !== entry.digest;
    if (entry.term === term && !digestDiffers) {
      return void 0;
    }
    const digestText = digest === void 0 ? "" : `, digest ${formatDigest(digest)}`;
    return `${who(view, record2)} ${what} index ${index} with term ${term}${digestText}, but ${at(view, entry)} had committed term ${entry.term}, digest ${formatDigest(entry.digest)} there: a committed entry changed`;
  };
  const appliedAgainstFresh = (view) => {
    for (let index = committed.freshFrom; index <= committed.freshTo; index++) {
      const entry = committed.entries.get(index);
      const first = applied.get(index);
      if (entry === void 0 || first === void 0) {
        continue;
      }
      if (first.term !== entry.term || entry.digest !== void 0 && entry.digest !== first.digest) {
        return `${at(view, first)} applied entry ${index} (term ${first.term}, digest ${formatDigest(first.digest)}), but ${at(view, entry)} committed term ${entry.term}, digest ${formatDigest(entry.digest)} there: a node applied an entry that was not the committed one`;
      }
    }
    return void 0;
  };
  const onApplied = (record2, view, index, term, digest) => {
    const first = applied.get(index);
    if (first === void 0) {
      applied.set(index, { node: record2.node, timeUs: record2.timeUs, term, digest });
    } else if (first.digest !== digest || first.term !== term) {
      return `${who(view, record2)} applied entry ${index} (term ${term}, digest ${formatDigest(digest)}), but ${at(view, first)} applied a different entry there (term ${first.term}, digest ${formatDigest(first.digest)}): state machines diverged`;
    }
    return againstCommitted(record2, view, "applied", index, term, digest);
  };
  return {
    name: "state-machine-safety",
    observes: ["committed", "applied", "snapshot-applied"],
    onObservation(record2, view) {
      committed.update(record2, view);
      const observation = raftObservation(record2);
      switch (observation.type) {
        case "applied":
          return onApplied(record2, view, observation.index, observation.term, observation.digest);
        case "committed":
          return againstCommitted(
            record2,
            view,
            "committed",
            observation.index,
            observation.term,
            void 0
          ) ?? appliedAgainstFresh(view);
        case "snapshot-applied": {
          const first = applied.get(observation.index);
          if (first !== void 0 && first.term !== observation.term) {
            return `${who(view, record2)} applied a snapshot through index ${observation.index} of term ${observation.term}, but ${at(view, first)} applied term ${first.term} at that index: the snapshot holds a different history`;
          }
          return againstCommitted(
            record2,
            view,
            "applied a snapshot ending at",
            observation.index,
            observation.term,
            void 0
          );
        }
        default:
          return void 0;
      }
    }
  };
}
function applyInOrder() {
  const last = new PerNode(0);
  const pending = [];
  const backwards = (view, held) => `${at(view, held)} applied a snapshot through ${held.index} after its state machine had reached ${held.previous}: a snapshot may move it forward, never back`;
  const onApplied = (record2, view, index) => {
    const previous = last.get(record2.node);
    last.set(record2.node, index);
    if (index !== previous + 1) {
      const how = index <= previous ? "again or backwards" : `skipping ${previous + 1}..${index - 1}`;
      return `${who(view, record2)} applied entry ${index} right after ${previous}, ${how}: a state machine applies each entry once, in order`;
    }
    const state = serverState(view, record2.node);
    if (state !== void 0 && index > state.commitIndex) {
      return `${who(view, record2)} applied entry ${index} but its commit index is only ${state.commitIndex}: it applied an entry before it was committed`;
    }
    return void 0;
  };
  const onSnapshot = (record2, index) => {
    const previous = last.get(record2.node);
    if (index < previous) {
      pending[record2.node] = { ...sourceOf(record2), index, previous };
    }
    last.set(record2.node, index);
  };
  return {
    name: "apply-in-order",
    // No `observes`: a snapshot held back is judged on the node's next observation, whatever
    // its type.
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      const held = pending[record2.node];
      if (held !== void 0) {
        pending[record2.node] = void 0;
        const booted = observation.type === "restarted" && observation.snapshotIndex === held.index;
        if (!booted) {
          return backwards(view, held);
        }
      }
      switch (observation.type) {
        case "restarted":
          last.set(record2.node, observation.snapshotIndex);
          return void 0;
        case "applied":
          return onApplied(record2, view, observation.index);
        case "snapshot-applied":
          onSnapshot(record2, observation.index);
          return void 0;
        default:
          return void 0;
      }
    },
    atEnd(view) {
      const held = pending.find((item) => item !== void 0);
      return held === void 0 ? void 0 : backwards(view, held);
    }
  };
}
function termsMonotonic() {
  const highest = [];
  const sinceRestart = [];
  const nodeTerm = (record2) => {
    const observation = raftObservation(record2);
    switch (observation.type) {
      case "campaign-started":
        return observation.preVote ? void 0 : observation.term;
      case "became-leader":
      case "stepped-down":
      case "vote-granted":
      case "restarted":
        return observation.term;
      default:
        return void 0;
    }
  };
  return {
    name: "terms-monotonic",
    observes: [
      "campaign-started",
      "became-leader",
      "stepped-down",
      "vote-granted",
      "restarted",
      "torn-tail-recovered"
    ],
    onObservation(record2, view) {
      const what = record2.observation.type;
      const since = sinceRestart[record2.node];
      const unacted = since !== void 0 && !since.acted ? since : void 0;
      if (what === "torn-tail-recovered") {
        if (unacted !== void 0) {
          highest[record2.node] = unacted.before;
        }
        sinceRestart[record2.node] = void 0;
        return void 0;
      }
      if (since !== void 0 && what !== "restarted") {
        since.acted = true;
      }
      const term = nodeTerm(record2);
      if (term === void 0) {
        return void 0;
      }
      const mark2 = highest[record2.node];
      if (what === "restarted") {
        sinceRestart[record2.node] = { before: unacted?.before ?? mark2, acted: false };
      }
      if (mark2 === void 0 || term >= mark2.term) {
        highest[record2.node] = { ...sourceOf(record2), term, what };
        return void 0;
      }
      const hint = what === "restarted" ? "its term was not durable before it acted on it" : "it accepted a stale term";
      return `${who(view, record2)} was at term ${term} (${what}) after reaching term ${mark2.term} (${mark2.what} at ${formatTime(mark2.timeUs)}): terms never decrease, so ${hint}`;
    }
  };
}
function candidate(view, voter, to) {
  return to === voter ? "itself" : view.name(to);
}
function oneVotePerTerm() {
  const votes = [];
  const votesOf = (node) => {
    let byTerm = votes[node];
    if (byTerm === void 0) {
      byTerm = /* @__PURE__ */ new Map();
      votes[node] = byTerm;
    }
    return byTerm;
  };
  const vote = (record2, view, term, to) => {
    const byTerm = votesOf(record2.node);
    const earlier = byTerm.get(term);
    if (earlier === void 0) {
      byTerm.set(term, { ...sourceOf(record2), to });
      return void 0;
    }
    if (earlier.to === to) {
      return void 0;
    }
    return `${who(view, record2)} voted for ${candidate(view, record2.node, to)} in term ${term}, but had voted for ${candidate(view, record2.node, earlier.to)} in term ${term} at ${formatTime(earlier.timeUs)}: the vote must be persisted before it is granted and kept across restarts`;
  };
  const restarted = (record2, view, term, recovered) => {
    const earlier = votesOf(record2.node).get(term);
    if (earlier !== void 0 && recovered !== earlier.to) {
      const found = recovered === null ? "no vote" : `a vote for ${view.name(recovered)}`;
      return `${who(view, record2)} restarted in term ${term} with ${found}, but had voted for ${candidate(view, record2.node, earlier.to)} in term ${term} at ${formatTime(earlier.timeUs)}: a vote must survive restarts (was it not durable, or forgotten by an earlier restart and overwritten?)`;
    }
    return recovered === null ? void 0 : vote(record2, view, term, recovered);
  };
  const sinceRestart = [];
  return {
    name: "one-vote-per-term",
    observes: ["vote-granted", "vote-sent", "campaign-started", "restarted", "torn-tail-recovered"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      const since = sinceRestart[record2.node];
      const unacted = since !== void 0 && !since.acted ? since : void 0;
      if (observation.type === "torn-tail-recovered") {
        for (const term of unacted?.before ?? []) {
          votesOf(record2.node).delete(term);
        }
        sinceRestart[record2.node] = void 0;
        return void 0;
      }
      if (observation.type === "restarted") {
        const terms = [...unacted?.before ?? []];
        if (observation.vote !== null && !votesOf(record2.node).has(observation.term)) {
          terms.push(observation.term);
        }
        sinceRestart[record2.node] = { before: terms, acted: false };
      } else if (since !== void 0) {
        since.acted = true;
      }
      switch (observation.type) {
        case "vote-granted":
        case "vote-sent":
          return vote(record2, view, observation.term, observation.to);
        case "campaign-started":
          return observation.preVote ? void 0 : vote(record2, view, observation.term, record2.node);
        case "restarted":
          return restarted(record2, view, observation.term, observation.vote);
        default:
          return void 0;
      }
    }
  };
}
function commitRule() {
  return {
    name: "commit-rule",
    observes: ["committed"],
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      if (observation.type !== "committed" || observation.leaderTerm === null) {
        return void 0;
      }
      if (observation.term === observation.leaderTerm) {
        return void 0;
      }
      return `${who(view, record2)}, leader of term ${observation.leaderTerm}, committed index ${observation.index} whose entry is from term ${observation.term} by counting replicas: only current-term entries may be committed that way (Raft \xA75.4.2, Figure 8)`;
    }
  };
}

// invariants/raft.ts
function raftSafetyInvariants(options = {}) {
  return raftInvariantsPerGroup(() => raftSafetyForOneGroup(options), options);
}
function raftSafetyForOneGroup(options) {
  const committed = new CommittedEntries();
  return [
    electionSafety(),
    leaderAppendOnly(),
    logMatching(),
    leaderCompleteness(committed),
    stateMachineSafety(committed),
    applyInOrder(),
    termsMonotonic(),
    oneVotePerTerm(),
    commitRule(),
    ackedNeverLost(options),
    freshReads(),
    refusesOnlyOnMediaFault(),
    recoveredEqualsDurable()
  ];
}

// invariants/raft-availability.ts
function stepDownBoundUs(plan, options) {
  const timeoutUs = options.electionTicks * options.tickUs;
  const lost = Math.min(plan.knobs.buggifyProbability, 0.5);
  const drift = 1 + 2 * (options.driftPpmMax ?? 2e3) / 1e6;
  return Math.ceil((options.electionTimeouts ?? 4) * timeoutUs * drift / (1 - lost)) + options.tickUs;
}
function cutTimeline(plan) {
  const events2 = plan.faults.map((fault, index) => ({ fault, index })).filter(
    ({ fault }) => (fault.kind === "partition" || fault.kind === "heal") && fault.atUs < plan.durationUs
  ).sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index);
  const segments = [];
  let cut = /* @__PURE__ */ new Set();
  let fromUs = 0;
  for (const { fault } of events2) {
    if (fault.atUs > fromUs && cut.size > 0) {
      segments.push({ fromUs, toUs: fault.atUs, cut });
    }
    fromUs = fault.atUs;
    cut = fault.kind === "partition" ? new Set(fault.links.map(([a, b]) => a * 65536 + b)) : /* @__PURE__ */ new Set();
  }
  if (cut.size > 0 && plan.durationUs > fromUs) {
    segments.push({ fromUs, toUs: plan.durationUs, cut });
  }
  return segments;
}
function pauses(plan, node) {
  return plan.faults.filter(
    (fault) => fault.kind === "pause" && fault.node === node && fault.atUs < plan.durationUs
  ).map((fault) => {
    const durationUs = fault.kind === "pause" ? fault.durationUs : 0;
    return [fault.atUs, Math.min(fault.atUs + durationUs, plan.durationUs)];
  });
}
var VOTER_SPANS_MAX = 1e4;
function sameVoters(a, b) {
  return a.length === b.length && a.every((voter, at2) => voter === b[at2]);
}
function leaderStepsDownWithoutQuorum(plan, options) {
  const boundUs = stepDownBoundUs(plan, options);
  const timeline = cutTimeline(plan);
  const lagUs = 2 * plan.knobs.fsyncLatencyMaxUs;
  const leaders = /* @__PURE__ */ new Map();
  const frozenOf = /* @__PURE__ */ new Map();
  const frozenFor = (node) => {
    let frozen = frozenOf.get(node);
    if (frozen === void 0) {
      frozen = pauses(plan, node);
      frozenOf.set(node, frozen);
    }
    return frozen;
  };
  const anyCutWithin = (fromUs, toUs) => timeline.some((segment) => segment.toUs > fromUs && segment.fromUs < toUs);
  const longestCutOff = (l, fromUs, toUs) => {
    const frozen = frozenFor(l.node);
    let best;
    let runStart = -1;
    let runEnd = -1;
    const close = () => {
      if (runStart >= 0) {
        const length = runningUs(runStart, runEnd, frozen);
        if (best === void 0 || length > runningUs(best[0], best[1], frozen)) {
          best = [runStart, runEnd];
        }
      }
      runStart = -1;
    };
    for (const segment of timeline) {
      for (const [at2, span] of l.voterSpans.entries()) {
        const spanEndUs = l.voterSpans[at2 + 1]?.fromUs ?? Number.MAX_SAFE_INTEGER;
        const a = Math.max(segment.fromUs, fromUs, span.fromUs);
        const b = Math.min(segment.toUs, toUs, spanEndUs);
        if (a >= b) {
          continue;
        }
        const { voters } = span;
        let heard = voters.includes(l.node) ? 1 : 0;
        for (const voter of voters) {
          if (voter !== l.node && !segment.cut.has(voter * 65536 + l.node)) {
            heard++;
          }
        }
        if (heard >= Math.floor(voters.length / 2) + 1) {
          close();
          continue;
        }
        if (runStart >= 0 && runEnd === a) {
          runEnd = b;
        } else {
          close();
          runStart = a;
          runEnd = b;
        }
      }
    }
    close();
    return best !== void 0 && runningUs(best[0], best[1], frozen) >= boundUs ? best : void 0;
  };
  const judge = (l, toUs, still, view) => {
    const stretch = longestCutOff(l, l.sinceUs, toUs);
    if (stretch === void 0) {
      return void 0;
    }
    return `${view.name(l.node)} ${still ? "is still" : "stayed"} leader of term ${l.term} through ${formatTime(stretch[0])}\u2013${formatTime(stretch[1])} while the partition let it hear from fewer than a majority of its ${l.voterSpans.at(-1)?.voters.length ?? 0} voters: a leader without a quorum must step down within ${formatTime(boundUs)} of running time (check-quorum), not keep holding clients that it can never answer`;
  };
  const noteVoters = (l, atUs, voters) => {
    const last = l.voterSpans.at(-1);
    if (sameVoters(last.voters, voters)) {
      return;
    }
    if (l.voterSpans.length >= VOTER_SPANS_MAX) {
      l.voterSpans.shift();
    }
    l.voterSpans.push({ fromUs: atUs, voters });
  };
  if (timeline.length === 0) {
    return { name: "leader-steps-down-without-quorum" };
  }
  return {
    name: "leader-steps-down-without-quorum",
    onObservation(record2, view) {
      const observation = raftObservation(record2);
      if (observation.type === "became-leader") {
        const voters = serverState(view, record2.node)?.voters ?? [];
        leaders.set(record2.node, {
          node: record2.node,
          term: observation.term,
          sinceUs: record2.timeUs,
          voterSpans: [{ fromUs: record2.timeUs, voters }],
          nextJudgeUs: record2.timeUs
        });
      } else if (observation.type === "membership-changed") {
        const l = leaders.get(record2.node);
        if (l !== void 0) {
          noteVoters(l, record2.timeUs, observation.voters);
        }
      } else if (observation.type === "stepped-down") {
        const l = leaders.get(record2.node);
        leaders.delete(record2.node);
        if (l !== void 0 && l.term === observation.term) {
          const verdict = judge(l, record2.timeUs - lagUs, false, view);
          if (verdict !== void 0) {
            return verdict;
          }
        }
      } else if (observation.type === "restarted") {
        leaders.delete(record2.node);
      }
      for (const l of leaders.values()) {
        if (view.timeUs < l.nextJudgeUs) {
          continue;
        }
        l.nextJudgeUs = view.timeUs + options.tickUs;
        if (!anyCutWithin(l.sinceUs, view.timeUs)) {
          continue;
        }
        const state = serverState(view, l.node);
        if (state === void 0 || state.role !== "leader" || state.term !== l.term) {
          continue;
        }
        noteVoters(l, record2.timeUs, state.voters);
        const verdict = judge(l, view.timeUs, true, view);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      return void 0;
    }
  };
}
function runningUs(fromUs, toUs, frozen) {
  let start2 = fromUs;
  let longest = 0;
  const inside = frozen.filter(([a, b]) => b > fromUs && a < toUs).sort((x, y) => x[0] - y[0]);
  for (const [a, b] of inside) {
    longest = Math.max(longest, Math.max(0, a - start2));
    start2 = Math.max(start2, b);
  }
  return Math.max(longest, toUs - start2);
}
var GIVE_UP_MARGIN = 0.9;
var FSYNC_DEATH_SHADOW_US = 5e5;
function randomLoss(plan) {
  const { knobs } = plan;
  if (knobs.dropProbability > 0) {
    return "drops";
  }
  if (knobs.latencyTailProbability > 0 && knobs.latencyTailMultiplier > 1) {
    return "a latency tail";
  }
  if (knobs.buggifyProbability > 0) {
    return "buggify";
  }
  return void 0;
}
function networkStates(plan) {
  const faults5 = plan.faults.map((fault, index) => ({ fault, index })).sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index);
  const states = [
    { fromUs: 0, down: /* @__PURE__ */ new Set(), pausedUntilUs: /* @__PURE__ */ new Map(), cut: /* @__PURE__ */ new Set() }
  ];
  for (const { fault } of faults5) {
    const last = states.at(-1);
    const down = new Set(last.down);
    const pausedUntilUs = new Map(last.pausedUntilUs);
    let cut = last.cut;
    switch (fault.kind) {
      case "crash":
        down.add(fault.node);
        break;
      case "restart":
        down.delete(fault.node);
        break;
      case "pause":
        pausedUntilUs.set(fault.node, fault.atUs + fault.durationUs);
        break;
      case "partition":
        cut = new Set(fault.links.map(([from2, to]) => from2 * 65536 + to));
        break;
      case "heal":
        cut = /* @__PURE__ */ new Set();
        break;
      default:
        break;
    }
    const next = { fromUs: fault.atUs, down, pausedUntilUs, cut };
    if (last.fromUs === fault.atUs) {
      states[states.length - 1] = next;
    } else {
      states.push(next);
    }
  }
  return states;
}
function answersWhileMajorityReachable(plan, options) {
  const name = "answers-while-majority-reachable";
  if (randomLoss(plan) !== void 0) {
    return { name };
  }
  const topology = Topology.of(plan);
  const group = topology.groups.find((candidate2) => candidate2.name === options.group);
  assert(group !== void 0, `answersWhileMajorityReachable: no group ${options.group}`);
  const servers = group.members;
  assert(servers.length <= 16, "a Raft group of at most 16 servers");
  const majority2 = Math.floor(servers.length / 2) + 1;
  const states = networkStates(plan);
  const unreliableAt = (node, fromUs, toUs) => plan.faults.some(
    (fault) => fault.kind === "fsync-error" && fault.node === node && fault.atUs > fromUs - FSYNC_DEATH_SHADOW_US && fault.atUs <= toUs || // A server a media fault hit may refuse to start at its next restart, and then stays
    // out for good (its synced data is damaged): not counted on from the fault on.
    MEDIA_FAULT_KINDS.includes(fault.kind) && "node" in fault && fault.node === node && fault.atUs <= toUs || fault.kind === "clock-jump" && fault.node === node && topology.clients.includes(node) && fault.atUs > fromUs && fault.atUs <= toUs
  );
  const stateIndexAt = (atUs) => {
    let low = 0;
    let high = states.length - 1;
    while (low < high) {
      const middle = low + high + 1 >> 1;
      if (states[middle].fromUs <= atUs) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  };
  const usable = (state, node, atUs) => !state.down.has(node) && (state.pausedUntilUs.get(node) ?? 0) <= atUs;
  const linked = (state, a, b) => !state.cut.has(a * 65536 + b) && !state.cut.has(b * 65536 + a);
  const outsiderMayLead = (state, subset) => servers.some((x) => {
    if (subset.includes(x) || state.down.has(x)) {
      return false;
    }
    let heard = 1;
    for (const y of servers) {
      const open = !state.cut.has(x * 65536 + y) || !state.cut.has(y * 65536 + x);
      if (y !== x && !state.down.has(y) && open) {
        heard++;
      }
    }
    return heard >= majority2;
  });
  const steadyMajority = (client, fromUs, toUs) => {
    if (unreliableAt(client, fromUs, toUs)) {
      return void 0;
    }
    const window = [];
    for (let at2 = stateIndexAt(fromUs); at2 < states.length; at2++) {
      const state = states[at2];
      if (state.fromUs > toUs) {
        break;
      }
      window.push({ state, atUs: Math.max(state.fromUs, fromUs) });
    }
    const steady = (node) => window.every(({ state, atUs }) => usable(state, node, atUs) && linked(state, node, client));
    if (!steady(client)) {
      return void 0;
    }
    const candidates = servers.filter((node) => !unreliableAt(node, fromUs, toUs) && steady(node));
    let best;
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const subset = candidates.filter((_, at2) => (mask & 1 << at2) !== 0);
      if (subset.length < majority2 || best !== void 0 && subset.length <= best.length) {
        continue;
      }
      const connected = window.every(
        ({ state }) => subset.every((a, i) => subset.slice(i + 1).every((b) => linked(state, a, b))) && !outsiderMayLead(state, subset)
      );
      if (connected) {
        best = subset;
      }
    }
    return best;
  };
  return {
    name,
    atEnd(view) {
      const { boundUs } = options;
      for (const op of view.history) {
        if (options.judged !== void 0 && !options.judged(op)) {
          continue;
        }
        const answeredUs = op.returnUs ?? Number.POSITIVE_INFINITY;
        const limitUs = Math.min(plan.durationUs, op.callUs + options.giveUpUs * GIVE_UP_MARGIN);
        const starts = [op.callUs];
        for (let at2 = stateIndexAt(op.callUs) + 1; at2 < states.length; at2++) {
          const fromUs = states[at2].fromUs;
          if (fromUs >= Math.min(answeredUs, limitUs)) {
            break;
          }
          starts.push(fromUs);
        }
        for (const startUs of starts) {
          const windowEndUs = startUs + boundUs;
          if (windowEndUs > limitUs || answeredUs <= windowEndUs) {
            break;
          }
          const reachable = steadyMajority(op.client, startUs, windowEndUs);
          if (reachable === void 0) {
            continue;
          }
          const answered = op.returnUs === void 0 ? "was never answered" : `was answered only at ${formatTime(op.returnUs)}`;
          const since = startUs === op.callUs ? "the call" : formatTime(startUs);
          return `${view.name(op.client)}'s operation ${JSON.stringify(op.input)}, called at ${formatTime(op.callUs)}, ${answered}, though from ${since} on ${view.name(op.client)} and a majority of ${options.group} (${reachable.map((node) => view.name(node)).join(", ")}) were up, unpaused and connected for ${formatTime(boundUs)}: a client that can reach a majority must get an answer`;
        }
      }
      return void 0;
    }
  };
}

// invariants/raft-stability.ts
function leaderStaysWhileHealthy(options) {
  const [perGroup3] = raftInvariantsPerGroup(
    () => [leaderStaysForOneGroup(options.electionTicks)],
    options
  );
  return perGroup3;
}
function leaderOfHealedCluster(view, electionTicks) {
  let found;
  let termMax = 0;
  for (const node of view.servers) {
    const state = serverState(view, node);
    if (state === void 0) {
      continue;
    }
    termMax = Math.max(termMax, state.term);
    if (state.role === "leader") {
      if (found !== void 0) {
        return void 0;
      }
      found = { leader: node, state };
    }
  }
  if (found === void 0 || found.state.term !== termMax) {
    return void 0;
  }
  const { leader, state: leading } = found;
  let following = 0;
  for (const voter of leading.voters) {
    const state = voter === leader ? leading : serverState(view, voter);
    const heard = voter === leader || state?.role === "follower" && state.leader === leader && 2 * state.electionElapsedTicks <= electionTicks;
    if (state?.term === leading.term && heard) {
      following++;
    }
  }
  return following >= Math.floor(leading.voters.length / 2) + 1 ? found : void 0;
}
function leaderStaysForOneGroup(electionTicks) {
  let established;
  const deposed = (view, what, atUs) => {
    const e = established;
    return `${what} at ${formatTime(atUs)}, though since ${formatTime(e.sinceUs)} ${view.name(e.leader)} had led term ${e.term} in the settle phase, followed by a majority, with no server at a higher term and no partition, loss or pause: a healthy leader must not be deposed (Raft's timing requirement; pre-vote and check-quorum refuse a rejoining server)`;
  };
  return {
    name: "leader-stays-while-healthy",
    observes: ["committed", "campaign-started", "stepped-down", "restarted"],
    onObservation(record2, view) {
      if (view.phase !== "settle") {
        return void 0;
      }
      const observation = raftObservation(record2);
      if (established === void 0) {
        const look = observation.type === "committed" && observation.leaderTerm !== null || observation.type === "campaign-started" && observation.preVote;
        if (look) {
          const found = leaderOfHealedCluster(view, electionTicks);
          if (found !== void 0) {
            established = {
              leader: found.leader,
              term: found.state.term,
              sinceUs: record2.timeUs,
              running: found.state.voters.filter((voter) => serverState(view, voter) !== void 0)
            };
          }
        }
        return void 0;
      }
      if (observation.type === "restarted" && observation.term > established.term) {
        established = void 0;
        return void 0;
      }
      const died = (e) => e.running.some((voter) => serverState(view, voter) === void 0) || observation.type === "restarted" && e.running.includes(record2.node);
      if (died(established)) {
        established = void 0;
        return void 0;
      }
      if (observation.type === "stepped-down" && record2.node === established.leader) {
        if (observation.reason === "removed") {
          established = void 0;
          return void 0;
        }
        return deposed(
          view,
          `${view.name(record2.node)} stepped down as leader of term ${observation.term} (${observation.reason})`,
          record2.timeUs
        );
      }
      if (observation.type === "campaign-started" && !observation.preVote && observation.term > established.term) {
        const leading = serverState(view, established.leader);
        if (leading?.role !== "leader" || leading.term !== established.term) {
          established = void 0;
          return void 0;
        }
        if (leading.voters.includes(record2.node)) {
          return deposed(
            view,
            `${view.name(record2.node)}, a voter, started an election for term ${observation.term}`,
            record2.timeUs
          );
        }
      }
      return void 0;
    }
  };
}

// sim/random.ts
import seedrandom from "seedrandom";
var UINT32 = 4294967296;
var LANE_SALTS = [2654435769, 2246822507, 3266489909, 668265263];
var WARM_UP_DRAWS = 16;
var LABEL_LENGTH_MAX = 4096;
var rotateLeft32 = (value, bits) => value << bits | value >>> 32 - bits;
function fmix32(input) {
  let hash = input;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 2246822507);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 3266489909);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
function hashLabel(label, salt) {
  let hash = salt | 0;
  for (let index = 0; index < label.length; index++) {
    let block = Math.imul(label.charCodeAt(index), 3432918353);
    block = rotateLeft32(block, 15);
    block = Math.imul(block, 461845907);
    hash ^= block;
    hash = rotateLeft32(hash, 13);
    hash = Math.imul(hash, 5) + 3864292196 | 0;
  }
  return fmix32(hash ^ label.length);
}
function stateFromLabel(label) {
  assert(label.length <= LABEL_LENGTH_MAX, "a seed label must be at most 4096 characters");
  const [x, y, z, w] = LANE_SALTS.map((salt) => hashLabel(label, salt));
  return x === 0 && y === 0 && z === 0 && w === 0 ? { x, y, z, w: 1 } : { x, y, z, w };
}
var Random = class _Random {
  label;
  generator;
  constructor(label, generator) {
    this.label = label;
    this.generator = generator;
  }
  static fromSeed(seed) {
    const label = String(seed);
    assert(label.length > 0, "a seed must not be empty");
    const generator = seedrandom.xor128("", { state: stateFromLabel(label) });
    for (let draw = 0; draw < WARM_UP_DRAWS; draw++) {
      generator.int32();
    }
    return new _Random(label, generator);
  }
  // A named, independent stream: extra draws here never shift the parent's or a sibling's.
  fork(name) {
    assert(name.length > 0, "a stream name must not be empty");
    return _Random.fromSeed(`${this.label}/${name}`);
  }
  /** A float in [0, 1). */
  next() {
    return this.generator();
  }
  /** An unsigned 32-bit integer. */
  uint32() {
    return this.generator.int32() >>> 0;
  }
  /** An integer in [0, maxExclusive), by multiply-shift (bias below 2^-32 · maxExclusive). */
  int(maxExclusive) {
    assert(Number.isSafeInteger(maxExclusive) && maxExclusive > 0, "int() needs a positive bound");
    if (maxExclusive <= UINT32) {
      return Math.floor(this.uint32() / UINT32 * maxExclusive);
    }
    return Math.floor(this.generator.double() * maxExclusive);
  }
  /** An integer in [min, max], both ends included. */
  between(min, max) {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max), "between() takes integers");
    assert(min <= max, "between() needs min <= max");
    return min + this.int(max - min + 1);
  }
  chance(probability2) {
    assert(probability2 >= 0 && probability2 <= 1, "a probability lies in [0, 1]");
    if (probability2 === 0) {
      return false;
    }
    return this.generator() < probability2;
  }
  pick(items) {
    assert(items.length > 0, "pick() needs at least one item");
    return items[this.int(items.length)];
  }
  /** Fisher–Yates on a copy. */
  shuffle(items) {
    const result = items.slice();
    for (let index = result.length - 1; index > 0; index--) {
      const other = this.int(index + 1);
      const held = result[index];
      result[index] = result[other];
      result[other] = held;
    }
    return result;
  }
  /** An exponentially distributed integer with the given mean (for latency tails). */
  exponential(mean) {
    assert(mean >= 0, "exponential() needs a non-negative mean");
    if (mean === 0) {
      return 0;
    }
    const uniform = 1 - this.generator();
    return Math.floor(-Math.log(uniform) * mean);
  }
  getState() {
    return this.generator.state();
  }
  static fromState(label, state) {
    return new _Random(label, seedrandom.xor128("", { state }));
  }
};

// systems/raft/membership.ts
function encodeVoters(voters) {
  const sorted = [...voters].sort((a, b) => a - b);
  const bytes = new Uint8Array(sorted.length * 4);
  const view = new DataView(bytes.buffer);
  sorted.forEach((id, position) => {
    if (!(Number.isInteger(id) && id >= 0 && id <= 4294967295)) {
      fail(`voter id ${id} out of range`);
    }
    view.setUint32(position * 4, id);
  });
  return bytes;
}
function decodeVoters(data) {
  assert(data.length % 4 === 0, "a config entry holds 4 bytes per voter");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const voters = [];
  for (let offset = 0; offset < data.length; offset += 4) {
    voters.push(view.getUint32(offset));
  }
  return voters;
}

// systems/raft/tracker.ts
var Progress = class {
  match = 0;
  next;
  state = "probe";
  /** Probe state: an append was sent and no answer (or heartbeat answer) came back yet. */
  probeSent = false;
  /** Last index of each unacknowledged append, oldest first (replicate state). */
  inflight = [];
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** With lease reads: the send time of the newest heartbeat it acknowledged (-1: none). */
  leaseAckUs = -1;
  /** Snapshot state: which snapshot is being sent and the next byte offset to send. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** Offset of the last chunk sent; -1 before the first. */
  snapshotSentOffset = -1;
  constructor(next) {
    this.next = next;
  }
  becomeProbe() {
    if (this.state === "snapshot") {
      this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.state = "probe";
    this.reset();
  }
  becomeReplicate() {
    this.state = "replicate";
    this.next = this.match + 1;
    this.reset();
  }
  becomeSnapshot(snapshotIndex) {
    this.state = "snapshot";
    this.reset();
    this.snapshotIndex = snapshotIndex;
    this.snapshotOffset = 0;
    this.snapshotSentOffset = -1;
  }
  reset() {
    this.probeSent = false;
    this.inflight = [];
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.snapshotSentOffset = -1;
  }
  /** A success for index arrived. Returns true if it was news. */
  maybeUpdate(index) {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.freeUpTo(index);
    return updated;
  }
  freeUpTo(index) {
    let count2 = 0;
    while (count2 < this.inflight.length && (this.inflight[count2] ?? 0) <= index) {
      count2++;
    }
    this.inflight.splice(0, count2);
  }
  /**
   * A rejection of prevIndex `rejected` arrived, with the next index the leader should try.
   * Returns false if the rejection is stale (answers an append we no longer care about).
   */
  maybeDecrease(rejected, candidateNext) {
    if (this.state === "replicate") {
      if (rejected <= this.match) {
        return false;
      }
      this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
      return true;
    }
    if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(this.match + 1, Math.min(rejected, candidateNext));
    assert(this.next >= 1, "next index must stay positive");
    this.probeSent = false;
    return true;
  }
  isPaused(maxInflight) {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflight.length >= maxInflight;
      case "snapshot":
        return true;
    }
  }
  /** Records that an append carrying entries up to lastIndex was sent. */
  sentEntries(count2, lastIndex) {
    if (this.state === "replicate") {
      if (count2 > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }
};
var quorumScratch = [];
function quorumIndex(voters, matchOf) {
  const count2 = voters.length;
  if (count2 === 0) {
    return 0;
  }
  const matches = quorumScratch;
  for (let index = 0; index < count2; index++) {
    const value = matchOf(voters[index]);
    let slot = index;
    while (slot > 0 && matches[slot - 1] < value) {
      matches[slot] = matches[slot - 1];
      slot--;
    }
    matches[slot] = value;
  }
  return matches[Math.floor(count2 / 2)] ?? 0;
}
function majority(count2) {
  return Math.floor(count2 / 2) + 1;
}

// systems/raft/read-only.ts
var ReadOnly = class {
  /** Reads waiting for a quorum of answers to their heartbeat round, oldest first. */
  pending = [];
  /** Reads that arrived before this term's first commit (the leader's commit may be stale). */
  waiting = [];
  seq = 0;
  /** Whether this leadership has answered a read under its lease yet (reported once). */
  leaseReadReported = false;
  /** When the last heartbeats went out (only the 'lease-renewed-on-send' bug reads it). */
  heartbeatSentUs = -1;
  /** A new leadership starts with no reads. */
  reset() {
    this.pending = [];
    this.waiting = [];
    this.leaseReadReported = false;
  }
};
function issueReads(r, requestIds) {
  const reads = r.reads;
  reads.seq++;
  for (const requestId of requestIds) {
    const acks = new Set(r.currentVoters.includes(r.id) ? [r.id] : []);
    reads.pending.push({ requestId, index: r.commit, seq: reads.seq, acks });
  }
  releaseReads(r);
  return reads.pending.length > 0;
}
function ackReads(r, from2, seq) {
  if (!r.currentVoters.includes(from2)) {
    return;
  }
  for (const read of r.reads.pending) {
    if (read.seq <= seq) {
      read.acks.add(from2);
    }
  }
  releaseReads(r);
}
function releaseReads(r) {
  const reads = r.reads;
  const needed = majority(r.currentVoters.length);
  let released = 0;
  for (const read of reads.pending) {
    let acks = 0;
    for (const id of read.acks) {
      acks += r.currentVoters.includes(id) ? 1 : 0;
    }
    if (acks < needed) {
      break;
    }
    r.readStates.push({ requestId: read.requestId, ok: true, index: read.index });
    released++;
  }
  reads.pending.splice(0, released);
}
function failReads(r) {
  const reads = r.reads;
  for (const read of reads.pending) {
    r.readStates.push({ requestId: read.requestId, ok: false });
  }
  for (const requestId of reads.waiting) {
    r.readStates.push({ requestId, ok: false });
  }
  reads.pending = [];
  reads.waiting = [];
}
function leaseHeld(r) {
  const lease = r.config.lease;
  if (lease === void 0) {
    return false;
  }
  const nowUs = lease.clockUs();
  if (r.hasBug("lease-renewed-on-send")) {
    const sentUs = r.reads.heartbeatSentUs;
    return sentUs >= 0 && nowUs - sentUs < lease.durationUs;
  }
  const startUs = quorumIndex(
    r.currentVoters,
    (id) => id === r.id ? nowUs : r.progress.get(id)?.leaseAckUs ?? -1
  );
  return startUs >= 0 && nowUs - startUs < lease.durationUs;
}
function reportLeaseRead(r) {
  if (!r.reads.leaseReadReported) {
    r.reads.leaseReadReported = true;
    r.events.push({ type: "lease-read", term: r.currentTerm, index: r.commit });
  }
}

// systems/raft/snapshot-transfer.ts
function sendSnapshotChunk(r, to, pr) {
  const meta = r.log.snapshotMeta();
  if (pr.snapshotIndex !== meta.lastIncludedIndex) {
    pr.becomeSnapshot(meta.lastIncludedIndex);
  }
  const data = r.snapshotData;
  assert(meta.lastIncludedIndex > 0, "a snapshot transfer needs a snapshot");
  const offset = Math.min(pr.snapshotOffset, data.length);
  const end = Math.min(data.length, offset + r.config.maxSnapshotChunkBytes);
  pr.snapshotSentOffset = offset;
  r.send({
    type: "snapshot",
    to,
    meta,
    totalBytes: data.length,
    offset,
    data: data.subarray(offset, end),
    done: end === data.length
  });
}
function onSnapshotResponse(r, pr, m) {
  if (pr.state !== "snapshot" || m.index !== pr.snapshotIndex) {
    return false;
  }
  if (!m.done) {
    if (m.chunkOffset !== pr.snapshotSentOffset) {
      return false;
    }
    pr.snapshotOffset = m.nextOffset;
    sendSnapshotChunk(r, m.from, pr);
    return false;
  }
  pr.maybeUpdate(m.index);
  pr.becomeProbe();
  return true;
}
function handleSnapshot(r, m, replyTerm) {
  const index = m.meta.lastIncludedIndex;
  const reply = (nextOffset, done) => r.send(
    { type: "snapshot-response", to: m.from, index, nextOffset, done, chunkOffset: m.offset },
    replyTerm
  );
  if (index <= r.commit) {
    r.incoming = null;
    reply(m.totalBytes, true);
    return;
  }
  const incoming = acceptChunk(r, m);
  if (incoming === null) {
    const current = r.incoming;
    reply(
      current !== null && current.meta.lastIncludedIndex === index ? current.received : 0,
      false
    );
    return;
  }
  if (!m.done) {
    reply(incoming.received, false);
    return;
  }
  assert(incoming.received === incoming.totalBytes, "snapshot transfer ended short");
  r.incoming = null;
  installSnapshot(r, { meta: m.meta, data: concat(incoming.chunks, incoming.totalBytes) });
  reply(incoming.received, true);
}
function acceptChunk(r, m) {
  if (m.offset === 0) {
    r.incoming = { meta: m.meta, totalBytes: m.totalBytes, chunks: [], received: 0 };
  }
  const incoming = r.incoming;
  if (incoming === null || incoming.meta.lastIncludedIndex !== m.meta.lastIncludedIndex || incoming.meta.lastIncludedTerm !== m.meta.lastIncludedTerm || incoming.received !== m.offset) {
    return null;
  }
  assert(
    incoming.received + m.data.length <= incoming.totalBytes,
    "snapshot chunk overruns its total"
  );
  incoming.chunks.push(m.data);
  incoming.received += m.data.length;
  return incoming;
}
function installSnapshot(r, snapshot) {
  const { meta } = snapshot;
  if (r.log.matchTerm(meta.lastIncludedIndex, meta.lastIncludedTerm)) {
    r.log.compactTo(meta.lastIncludedIndex, meta.voters);
  } else {
    r.log.resetTo(meta);
    r.events.push({ type: "log-truncated", from: meta.lastIncludedIndex + 1 });
  }
  r.snapshotData = snapshot.data;
  r.snapshotToPersist = snapshot;
  r.snapshotToApply = snapshot;
  r.events.push({
    type: "snapshot-installed",
    index: meta.lastIncludedIndex,
    term: meta.lastIncludedTerm
  });
  r.commitTo(meta.lastIncludedIndex, null);
  r.refreshConfig();
}
function concat(chunks, total) {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

// systems/raft/leader.ts
function stepLeader(r, m) {
  if (m.type === "append" || m.type === "heartbeat" || m.type === "snapshot") {
    fail(`two leaders in term ${r.currentTerm}: ${r.id} and ${m.from}`);
  }
  switch (m.type) {
    case "append-response":
      handleAppendResponse(r, m);
      return;
    case "heartbeat-response":
      handleHeartbeatResponse(r, m);
      return;
    case "snapshot-response": {
      const pr = r.progress.get(m.from);
      if (pr === void 0) {
        return;
      }
      pr.recentActive = true;
      if (onSnapshotResponse(r, pr, m)) {
        sendAppend(r, m.from, true);
      }
      return;
    }
    default:
      return;
  }
}
function tickLeader(r) {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0;
    if (r.config.checkQuorum && !quorumActive(r) && !r.hasBug("leader-never-steps-down")) {
      r.becomeFollower(r.currentTerm, null, "check-quorum");
      return;
    }
  }
  if (r.heartbeatElapsed >= r.config.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    broadcastHeartbeat(r);
  }
}
function quorumActive(r) {
  let active = 0;
  for (const id of r.currentVoters) {
    const pr = r.progress.get(id);
    if (id === r.id || pr?.recentActive === true) {
      active++;
    }
  }
  for (const pr of r.progress.values()) {
    pr.recentActive = false;
  }
  return active >= majority(r.currentVoters.length);
}
function addProgress(r, id) {
  if (id === r.id || r.progress.has(id)) {
    return;
  }
  const pr = new Progress(r.log.lastIndex() + 1);
  pr.recentActive = true;
  r.progress.set(id, pr);
}
function leaderPropose(r, command) {
  assert(r.currentRole === "leader", "only a leader takes proposals");
  const entry = appendAsLeader(r, "command", command);
  broadcastAppend(r);
  return { ok: true, index: entry.index, term: entry.term };
}
function leaderProposeMembershipChange(r, change) {
  assert(r.currentRole === "leader", "only a leader changes the configuration");
  const refuse = (reason) => ({ ok: false, reason, leaderHint: r.id });
  if (r.commit < r.termStartIndex) {
    return refuse("no-commit-in-term");
  }
  if (r.configIndex > r.commit) {
    return refuse("change-in-progress");
  }
  const member = r.currentVoters.includes(change.node);
  if (change.type === "add" && member) {
    return refuse("already-member");
  }
  if (change.type === "remove" && !member) {
    return refuse("not-member");
  }
  if (change.type === "remove" && r.currentVoters.length === 1) {
    return refuse("last-voter");
  }
  const next = change.type === "add" ? [...r.currentVoters, change.node] : r.currentVoters.filter((id) => id !== change.node);
  const entry = appendAsLeader(r, "config", encodeVoters(next));
  broadcastAppend(r);
  return { ok: true, index: entry.index, term: entry.term };
}
function leaderReadIndex(r, requestId) {
  assert(r.currentRole === "leader", "only a leader answers reads");
  if (r.commit < r.termStartIndex) {
    r.reads.waiting.push(requestId);
  } else if (leaseHeld(r)) {
    r.readStates.push({ requestId, ok: true, index: r.commit });
    reportLeaseRead(r);
  } else if (issueReads(r, [requestId])) {
    broadcastHeartbeat(r);
  }
  return { ok: true };
}
function appendAsLeader(r, kind, data) {
  assert(r.currentRole === "leader", "only a leader appends its own entries");
  const entry = { index: r.log.lastIndex() + 1, term: r.currentTerm, kind, data };
  r.log.append(entry);
  if (kind === "config") {
    r.applyConfig(decodeVoters(data), entry.index);
  }
  return entry;
}
function maybeCommit(r) {
  const candidate2 = quorumIndex(
    r.currentVoters,
    (id) => id === r.id ? r.log.persisted : r.progress.get(id)?.match ?? 0
  );
  if (candidate2 <= r.commit) {
    return false;
  }
  const term = r.log.termAt(candidate2);
  if (term !== r.currentTerm && !r.hasBug("commit-previous-term")) {
    return false;
  }
  r.commitTo(candidate2, r.currentTerm);
  afterLeaderCommit(r);
  return true;
}
function afterLeaderCommit(r) {
  if (r.commit >= r.termStartIndex && r.reads.waiting.length > 0) {
    const waiting = r.reads.waiting;
    r.reads.waiting = [];
    if (issueReads(r, waiting)) {
      broadcastHeartbeat(r);
    }
  }
  if (!r.currentVoters.includes(r.id) && r.commit >= r.configIndex) {
    broadcastAppend(r);
    r.becomeFollower(r.currentTerm, null, "removed");
    return;
  }
  broadcastAppend(r);
}
function broadcastAppend(r) {
  for (const id of r.progress.keys()) {
    sendAppend(r, id, true);
  }
}
function sendAppend(r, to, sendIfEmpty) {
  const pr = r.progress.get(to);
  if (pr === void 0 || pr.isPaused(r.config.maxInflightAppends)) {
    return false;
  }
  const prevIndex = pr.next - 1;
  if (prevIndex > r.log.lastIndex()) {
    fail(`next ${pr.next} for ${to} beyond the log`);
  }
  const prevTerm = r.log.termAt(prevIndex);
  if (prevTerm === void 0) {
    pr.becomeSnapshot(r.log.snapshotMeta().lastIncludedIndex);
    sendSnapshotChunk(r, to, pr);
    return true;
  }
  const batchMax = r.config.buggify?.("raft.tiny-appends") === true ? 1 : r.config.maxEntriesPerAppend;
  const last = Math.min(r.log.lastIndex(), prevIndex + batchMax);
  const entries = last > prevIndex ? r.log.slice(prevIndex + 1, last) : [];
  if (entries.length === 0 && !sendIfEmpty) {
    return false;
  }
  r.send({ type: "append", to, prevIndex, prevTerm, entries, commit: r.commit });
  pr.sentEntries(entries.length, last);
  return true;
}
function handleAppendResponse(r, m) {
  const pr = r.progress.get(m.from);
  if (pr === void 0) {
    return;
  }
  pr.recentActive = true;
  if (!m.success) {
    handleAppendRejection(r, pr, m);
    return;
  }
  if (m.index > r.log.lastIndex()) {
    fail(`${m.from} acknowledged ${m.index} beyond our log`);
  }
  const wasPaused = pr.isPaused(r.config.maxInflightAppends);
  if (!pr.maybeUpdate(m.index)) {
    return;
  }
  if (pr.state === "probe") {
    pr.becomeReplicate();
  } else if (pr.state === "snapshot" && pr.match >= pr.snapshotIndex) {
    pr.becomeProbe();
  }
  if (!maybeCommit(r) && wasPaused) {
    sendAppend(r, m.from, false);
  }
  sendWhileOpen(r, m.from);
}
function sendWhileOpen(r, to) {
  for (let round = 0; round < r.config.maxInflightAppends; round++) {
    if (r.currentRole !== "leader" || !sendAppend(r, to, false)) {
      return;
    }
  }
}
function handleAppendRejection(r, pr, m) {
  let hint = m.conflictIndex;
  if (r.config.buggify?.("raft.one-step-backup") === true) {
    hint = m.index;
  } else if (m.conflictTerm > 0) {
    const last = r.log.lastIndexOfTerm(m.conflictTerm);
    if (last > 0) {
      hint = last + 1;
    }
  }
  const wasReplicate = pr.state === "replicate";
  if (!pr.maybeDecrease(m.index, Math.max(1, hint))) {
    return;
  }
  if (wasReplicate) {
    pr.state = "probe";
    pr.inflight = [];
    pr.probeSent = false;
  }
  sendAppend(r, m.from, true);
}
function broadcastHeartbeat(r) {
  const reads = r.reads;
  const readSeq = reads.pending.length > 0 ? reads.seq : 0;
  const leaseSentUs = r.config.lease?.clockUs();
  reads.heartbeatSentUs = leaseSentUs ?? -1;
  for (const [to, pr] of r.progress) {
    const commit = Math.min(pr.match, r.commit);
    if (leaseSentUs === void 0) {
      r.send({ type: "heartbeat", to, commit, readSeq });
    } else {
      r.send({ type: "heartbeat", to, commit, readSeq, leaseSentUs });
    }
  }
}
function handleHeartbeatResponse(r, m) {
  const pr = r.progress.get(m.from);
  if (pr === void 0) {
    return;
  }
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === "snapshot") {
    sendSnapshotChunk(r, m.from, pr);
  } else if (pr.match < r.log.lastIndex()) {
    if (pr.state === "replicate" && pr.isPaused(r.config.maxInflightAppends)) {
      pr.inflight.shift();
    }
    sendAppend(r, m.from, true);
  }
  if (m.leaseSentUs !== void 0) {
    pr.leaseAckUs = Math.max(pr.leaseAckUs, m.leaseSentUs);
  }
  if (m.readSeq > 0) {
    ackReads(r, m.from, m.readSeq);
  }
}

// systems/raft/follower.ts
function stepFollower(r, m) {
  switch (m.type) {
    case "append":
      followLeader(r, m.from);
      handleAppend(r, m, r.currentTerm);
      return;
    case "heartbeat":
      followLeader(r, m.from);
      handleHeartbeat(r, m, r.currentTerm);
      return;
    case "snapshot":
      followLeader(r, m.from);
      handleSnapshot(r, m, r.currentTerm);
      return;
    default:
      return;
  }
}
function followLeader(r, from2) {
  r.leaderId = from2;
  r.electionElapsed = 0;
  r.leaderContactElapsed = 0;
}
function acceptStale(r, m) {
  switch (m.type) {
    case "append":
      r.leaderId = m.from;
      r.electionElapsed = 0;
      handleAppend(r, m, m.term);
      return;
    case "heartbeat":
      handleHeartbeat(r, m, m.term);
      return;
    case "snapshot":
      handleSnapshot(r, m, m.term);
      return;
    case "vote": {
      const granted = r.log.isUpToDate(m.lastIndex, m.lastTerm);
      if (granted) {
        r.events.push({ type: "vote-granted", term: m.term, to: m.from });
      }
      r.outbox.push({
        type: "vote-response",
        from: r.id,
        to: m.from,
        term: m.term,
        granted
      });
      return;
    }
    default:
      return;
  }
}
function handleAppend(r, m, replyTerm) {
  const reply = (fields) => r.send({ type: "append-response", to: m.from, ...fields }, replyTerm);
  if (m.prevIndex < r.commit) {
    reply({ success: true, index: r.commit, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  if (r.log.matchTerm(m.prevIndex, m.prevTerm)) {
    const lastNew = m.prevIndex + m.entries.length;
    const keptSuffix = appendFromLeader(r, m.entries);
    r.commitTo(Math.min(m.commit, keptSuffix ? r.log.lastIndex() : lastNew), null);
    reply({ success: true, index: lastNew, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  const term = r.log.termAt(m.prevIndex);
  if (term === void 0) {
    reply({
      success: false,
      index: m.prevIndex,
      conflictTerm: 0,
      conflictIndex: r.log.lastIndex() + 1
    });
    return;
  }
  const conflictIndex = r.log.firstIndexOfTerm(m.prevIndex);
  reply({ success: false, index: m.prevIndex, conflictTerm: term, conflictIndex });
}
function appendFromLeader(r, entries) {
  const conflict = r.log.findConflict(entries);
  if (conflict === 0) {
    return false;
  }
  if (!(conflict > r.commit)) {
    fail(`entry ${conflict} conflicts with committed entry (commit ${r.commit})`);
  }
  const first = entries.findIndex((e) => e.index === conflict);
  assert(first >= 0, "conflict index must be one of the new entries");
  let truncated = false;
  let kept = false;
  let sawConfig = false;
  for (let position = first; position < entries.length; position++) {
    const entry = entries[position];
    sawConfig ||= entry.kind === "config" || r.log.entryAt(entry.index)?.kind === "config";
    if (entry.index <= r.log.lastIndex()) {
      if (r.hasBug("no-truncate-on-conflict")) {
        r.log.overwriteInPlace(entry);
        kept = entry.index < r.log.lastIndex();
        continue;
      }
      if (!truncated) {
        r.log.truncateFrom(entry.index);
        r.events.push({ type: "log-truncated", from: entry.index });
        truncated = true;
      }
    }
    r.log.append(entry);
  }
  if (sawConfig || truncated || kept) {
    r.refreshConfig();
  }
  return kept;
}
function handleHeartbeat(r, m, replyTerm) {
  if (m.commit > r.log.lastIndex()) {
    fail(
      `leader says commit ${m.commit} but ${r.id} holds only ${r.log.lastIndex()}: an acknowledged entry was lost`
    );
  }
  r.commitTo(m.commit, null);
  if (m.leaseSentUs === void 0) {
    r.send({ type: "heartbeat-response", to: m.from, readSeq: m.readSeq }, replyTerm);
  } else {
    const { readSeq, leaseSentUs } = m;
    r.send({ type: "heartbeat-response", to: m.from, readSeq, leaseSentUs }, replyTerm);
  }
}

// systems/raft/candidate.ts
function stepCandidate(r, m) {
  switch (m.type) {
    case "append":
    case "heartbeat":
    case "snapshot":
      r.becomeFollower(r.currentTerm, m.from, "leader-seen");
      stepFollower(r, m);
      return;
    case "vote-response":
    case "pre-vote-response":
      handleVoteResponse(r, m);
      return;
    default:
      return;
  }
}
function startVote(r, type, term) {
  r.votes.clear();
  r.votes.set(r.id, true);
  r.events.push({ type: "campaign-started", term, preVote: type === "pre-vote" });
  for (const to of r.currentVoters) {
    if (to !== r.id) {
      r.outbox.push({
        type,
        from: r.id,
        to,
        term,
        lastIndex: r.log.lastIndex(),
        lastTerm: r.log.lastTerm()
      });
    }
  }
  tallyVotes(r);
}
function handleVoteResponse(r, m) {
  const expected = r.currentRole === "pre-candidate" ? "pre-vote-response" : "vote-response";
  if (m.type !== expected || !r.currentVoters.includes(m.from)) {
    return;
  }
  r.votes.set(m.from, m.granted);
  tallyVotes(r);
}
function tallyVotes(r) {
  let granted = 0;
  let rejected = 0;
  for (const [id, vote] of r.votes) {
    if (!r.currentVoters.includes(id)) {
      continue;
    }
    if (vote) {
      granted++;
    } else {
      rejected++;
    }
  }
  const needed = majority(r.currentVoters.length);
  if (granted >= needed) {
    if (r.currentRole === "pre-candidate") {
      r.becomeCandidate();
    } else {
      r.becomeLeader();
    }
  } else if (rejected >= needed) {
    r.becomeFollower(r.currentTerm, null, "higher-term");
  }
}
function handleVoteRequest(r, m) {
  const upToDate = r.log.isUpToDate(m.lastIndex, m.lastTerm);
  if (m.type === "pre-vote") {
    const granted2 = m.term > r.currentTerm && upToDate && !r.inLease();
    r.send({ type: "pre-vote-response", to: m.from, granted: granted2 }, granted2 ? m.term : r.currentTerm);
    return;
  }
  const canVote = r.votedFor === m.from || r.votedFor === null && r.leaderId === null && !r.inLease();
  const granted = canVote && upToDate;
  if (granted) {
    r.votedFor = m.from;
    r.electionElapsed = 0;
    r.events.push({ type: "vote-granted", term: r.currentTerm, to: m.from });
  }
  r.send({ type: "vote-response", to: m.from, granted });
}

// systems/raft/log.ts
var RaftLog = class {
  base;
  entries = [];
  /** Entries at or below this index were handed out in a Ready (or restored from disk). */
  handed;
  /** Entries at or below this index are durable. */
  persisted;
  /** Entries above `handed` may still be on disk from before a truncation: the next Ready says so. */
  rewritten = false;
  constructor(base, restored) {
    this.base = base;
    for (const entry of restored) {
      if (entry.index <= base.lastIncludedIndex) {
        continue;
      }
      if (entry.index !== this.lastIndex() + 1) {
        fail(`restored log has a gap before ${entry.index}`);
      }
      this.entries.push(entry);
    }
    this.handed = this.lastIndex();
    this.persisted = this.lastIndex();
  }
  snapshotMeta() {
    return this.base;
  }
  firstIndex() {
    return this.base.lastIncludedIndex + 1;
  }
  lastIndex() {
    return this.base.lastIncludedIndex + this.entries.length;
  }
  lastTerm() {
    return this.termAt(this.lastIndex()) ?? 0;
  }
  /** The term at index, or undefined if index is compacted away or beyond the end. */
  termAt(index) {
    if (index === this.base.lastIncludedIndex) {
      return this.base.lastIncludedTerm;
    }
    return this.entryAt(index)?.term;
  }
  entryAt(index) {
    if (index <= this.base.lastIncludedIndex || index > this.lastIndex()) {
      return void 0;
    }
    const entry = this.entries[index - this.base.lastIncludedIndex - 1];
    if (!(entry !== void 0 && entry.index === index)) {
      fail(`log position ${index} is inconsistent`);
    }
    return entry;
  }
  /** Entries in [lo, hi], both available in the log. */
  slice(lo, hi) {
    if (!(lo >= this.firstIndex() && hi <= this.lastIndex())) {
      fail(`slice [${lo}, ${hi}] out of range`);
    }
    if (lo > hi) {
      return [];
    }
    const offset = this.base.lastIncludedIndex + 1;
    return this.entries.slice(lo - offset, hi - offset + 1);
  }
  matchTerm(index, term) {
    return this.termAt(index) === term;
  }
  isUpToDate(lastIndex, lastTerm) {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || lastTerm === myTerm && lastIndex >= this.lastIndex();
  }
  /** Appends at the end (leader path, or a follower appending past its last index). */
  append(entry) {
    if (entry.index !== this.lastIndex() + 1) {
      fail(`append at ${entry.index} leaves a gap`);
    }
    this.entries.push(entry);
  }
  /** Drops every entry with index >= from. Returns how many were dropped. */
  truncateFrom(from2) {
    if (!(from2 > this.base.lastIncludedIndex)) {
      fail(`cannot truncate into the snapshot at ${from2}`);
    }
    const keep = from2 - this.base.lastIncludedIndex - 1;
    const dropped = Math.max(0, this.entries.length - keep);
    this.entries.length = Math.min(this.entries.length, keep);
    this.rewritten = true;
    this.handed = Math.min(this.handed, from2 - 1);
    this.persisted = Math.min(this.persisted, from2 - 1);
    return dropped;
  }
  /** Replaces the entry at an existing index in place (used only by the no-truncate bug). */
  overwriteInPlace(entry) {
    const position = entry.index - this.base.lastIncludedIndex - 1;
    if (!(position >= 0 && position < this.entries.length)) {
      fail(`overwrite at ${entry.index} out of range`);
    }
    this.entries[position] = entry;
    this.rewritten = true;
    this.handed = Math.min(this.handed, entry.index - 1);
    this.persisted = Math.min(this.persisted, entry.index - 1);
  }
  /**
   * The first index in `entries` that is not already in the log with the same term
   * (0 if every entry is already present).
   */
  findConflict(entries) {
    for (const entry of entries) {
      if (entry.index <= this.base.lastIncludedIndex) {
        continue;
      }
      if (!this.matchTerm(entry.index, entry.term)) {
        return entry.index;
      }
    }
    return 0;
  }
  /** The first index at or after firstIndex() holding the same term as index (fast backup). */
  firstIndexOfTerm(index) {
    const term = this.termAt(index);
    if (term === void 0) {
      fail(`firstIndexOfTerm(${index}) outside the log`);
    }
    let first = index;
    while (first - 1 >= this.firstIndex() && this.termAt(first - 1) === term) {
      first--;
    }
    return first;
  }
  /** The last index holding `term`, or 0 if the log has no entry of that term. */
  lastIndexOfTerm(term) {
    for (let index = this.lastIndex(); index >= this.base.lastIncludedIndex; index--) {
      const t = this.termAt(index);
      if (t === void 0 || t < term) {
        return 0;
      }
      if (t === term) {
        return index;
      }
    }
    return 0;
  }
  /** Compacts the prefix through index (which must be in the log) into a new base. */
  compactTo(index, voters) {
    const term = this.termAt(index);
    if (term === void 0) {
      fail(`compactTo(${index}) outside the log`);
    }
    if (index <= this.base.lastIncludedIndex) {
      return;
    }
    this.entries = this.entries.slice(index - this.base.lastIncludedIndex);
    this.base = { lastIncludedIndex: index, lastIncludedTerm: term, voters: [...voters] };
    this.handed = Math.max(this.handed, index);
    this.persisted = Math.max(this.persisted, index);
  }
  /** Discards the whole log and restarts it after the snapshot. */
  resetTo(meta) {
    this.entries = [];
    this.base = { ...meta, voters: [...meta.voters] };
    this.rewritten = true;
    this.handed = meta.lastIncludedIndex;
    this.persisted = meta.lastIncludedIndex;
  }
  /** The newest config entry at or below index (and above the base), if any. */
  lastConfigAtOrBelow(index) {
    const top = Math.min(index, this.lastIndex());
    for (let i = top; i > this.base.lastIncludedIndex; i--) {
      const entry = this.entryAt(i);
      if (entry?.kind === "config") {
        return entry;
      }
    }
    return void 0;
  }
};

// systems/raft/raft.ts
var Raft = class {
  id;
  config;
  log;
  currentTerm;
  votedFor;
  commit;
  currentRole = "follower";
  leaderId = null;
  currentVoters;
  configIndex;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /**
   * With lease reads: ticks since we last heard from a leader, whose lease our answer may
   * back. Unlike electionElapsed it is reset by nothing else, and it survives losing track of
   * the leader (a restart, a stray higher-term message).
   */
  leaderContactElapsed;
  randomizedElectionTimeout = 0;
  /** Campaigning: the answers so far (our own vote included). */
  votes = /* @__PURE__ */ new Map();
  /** Leading: each follower's Progress. */
  progress = /* @__PURE__ */ new Map();
  /** Leading: the index of this term's no-op; reads and config changes wait for its commit. */
  termStartIndex = 0;
  reads = new ReadOnly();
  /** Following: the snapshot being received in chunks. */
  incoming = null;
  /** The state machine's snapshot at the log's base, which a leader sends to laggards. */
  snapshotData;
  // What the next Ready hands out (see RaftCore.ready).
  outbox = [];
  events = [];
  readStates = [];
  snapshotToPersist;
  snapshotToApply;
  constructor(config, restored) {
    this.config = config;
    this.id = config.id;
    const meta = restored.snapshotMeta;
    const base = meta.lastIncludedIndex > 0 ? meta : { lastIncludedIndex: 0, lastIncludedTerm: 0, voters: config.voters };
    this.log = new RaftLog(base, restored.entries);
    this.snapshotData = restored.snapshotData ?? new Uint8Array(0);
    const hard = restored.hardState;
    this.currentTerm = hard.term;
    this.votedFor = this.hasBug("forget-vote-on-restart") ? null : hard.vote;
    this.commit = Math.min(Math.max(hard.commit, base.lastIncludedIndex), this.log.lastIndex());
    const mayHaveBackedLease = hard.term > 0 && !this.hasBug("lease-vote-after-restart");
    this.leaderContactElapsed = mayHaveBackedLease ? 0 : config.electionTicks;
    const [voters, configIndex] = this.configFromLog();
    this.currentVoters = voters;
    this.configIndex = configIndex;
    this.resetElectionTimer();
  }
  hasBug(bug) {
    return this.config.bugs.has(bug);
  }
  /**
   * A voter of its newest configuration may campaign; so may a server that configuration
   * removes while the removal is not yet known committed. It may be the only server holding
   * the removal — a leader that removed itself and stepped down (check-quorum) before the
   * entry committed — and the remaining voters, which lack the entry, cannot out-vote its more
   * up-to-date log: without this nobody could ever be elected (found by membership bursts,
   * raft seed 273). Elected by the new voters (its own vote does not count), it commits the
   * removal as the thesis's removed leader does and then steps down (leader.ts, 'removed').
   */
  promotable() {
    if (this.currentVoters.includes(this.id)) {
      return true;
    }
    return this.configIndex > this.commit && this.previousVoters().includes(this.id);
  }
  /** The configuration before the newest one (the snapshot's when that is compacted away). */
  previousVoters() {
    const entry = this.log.lastConfigAtOrBelow(this.configIndex - 1);
    return entry !== void 0 ? decodeVoters(entry.data) : [...this.log.snapshotMeta().voters];
  }
  notLeader() {
    return { ok: false, reason: "not-leader", leaderHint: this.leaderId };
  }
  // ---- ticks and campaigns ------------------------------------------------------------------
  tick() {
    this.leaderContactElapsed = Math.min(this.leaderContactElapsed + 1, this.config.electionTicks);
    if (this.currentRole === "leader") {
      tickLeader(this);
      return;
    }
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.campaign();
    }
  }
  /** The election timer fired now (etcd's MsgHup). Ignored by a leader and by non-voters. */
  campaign() {
    if (this.currentRole === "leader" || !this.promotable()) {
      return;
    }
    if (this.config.preVote) {
      this.becomePreCandidate();
    } else {
      this.becomeCandidate();
    }
  }
  // ---- role changes -------------------------------------------------------------------------
  resetElectionTimer() {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const span = this.config.electionTicks;
    const draw = this.config.randomInt(span);
    if (!(Number.isInteger(draw) && draw >= 0 && draw < span)) {
      fail(`randomInt(${span}) returned ${draw}`);
    }
    this.randomizedElectionTimeout = span + draw;
  }
  setTerm(term) {
    if (term < this.currentTerm) {
      fail(`term must not decrease: ${this.currentTerm} -> ${term}`);
    }
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
  }
  becomeFollower(term, leader, reason, resetTimer = true) {
    const wasLeader = this.currentRole === "leader";
    this.setTerm(term);
    this.currentRole = "follower";
    this.leaderId = leader;
    if (resetTimer || wasLeader) {
      this.resetElectionTimer();
    }
    this.votes.clear();
    if (wasLeader) {
      this.progress.clear();
      failReads(this);
      this.events.push({ type: "stepped-down", term: this.currentTerm, reason });
    }
  }
  becomePreCandidate() {
    this.currentRole = "pre-candidate";
    this.leaderId = null;
    this.resetElectionTimer();
    startVote(this, "pre-vote", this.currentTerm + 1);
  }
  becomeCandidate() {
    this.setTerm(this.currentTerm + 1);
    this.votedFor = this.id;
    this.currentRole = "candidate";
    this.leaderId = null;
    this.resetElectionTimer();
    startVote(this, "vote", this.currentTerm);
  }
  becomeLeader() {
    assert(this.currentRole === "candidate", "only a candidate becomes leader");
    this.currentRole = "leader";
    this.leaderId = this.id;
    this.resetElectionTimer();
    this.progress.clear();
    for (const id of this.currentVoters) {
      addProgress(this, id);
    }
    this.reads.reset();
    this.events.push({ type: "became-leader", term: this.currentTerm });
    const noop = appendAsLeader(this, "noop", new Uint8Array(0));
    this.termStartIndex = noop.index;
    broadcastAppend(this);
    maybeCommit(this);
  }
  // ---- step ---------------------------------------------------------------------------------
  /** etcd's Step: the term check every message goes through, then the role's step function. */
  step(message) {
    if (message.to !== this.id) {
      fail(`message for ${message.to} delivered to ${this.id}`);
    }
    if (message.from === this.id) {
      return;
    }
    if (message.term > this.currentTerm) {
      if (!this.onHigherTerm(message)) {
        return;
      }
    } else if (message.term < this.currentTerm) {
      this.onLowerTerm(message);
      return;
    }
    if (message.type === "vote" || message.type === "pre-vote") {
      handleVoteRequest(this, message);
      return;
    }
    switch (this.currentRole) {
      case "leader":
        stepLeader(this, message);
        return;
      case "pre-candidate":
      case "candidate":
        stepCandidate(this, message);
        return;
      case "follower":
        stepFollower(this, message);
        return;
    }
  }
  /**
   * Whether to refuse votes now because we heard from a leader less than an election timeout
   * ago. With lease reads that leader may be answering reads on the strength of our answer,
   * so what counts is leaderContactElapsed, which a restart or a stray message cannot reset.
   */
  inLease() {
    if (this.config.lease !== void 0) {
      return this.currentRole === "leader" || this.leaderContactElapsed < this.config.electionTicks;
    }
    return this.leaderId !== null && this.electionElapsed < this.config.electionTicks;
  }
  /** Returns true if the message should still be dispatched. */
  onHigherTerm(m) {
    if (m.type === "pre-vote") {
      return true;
    }
    if (m.type === "vote" && this.config.checkQuorum && this.inLease()) {
      return false;
    }
    if (m.type === "pre-vote-response" && m.granted) {
      return true;
    }
    const fromLeader = m.type === "append" || m.type === "heartbeat" || m.type === "snapshot";
    this.becomeFollower(m.term, fromLeader ? m.from : null, "higher-term", fromLeader);
    return true;
  }
  onLowerTerm(m) {
    const stale = m.type === "append" || m.type === "heartbeat" || m.type === "snapshot" || m.type === "vote";
    if (stale && this.hasBug("accept-stale-term") && this.currentRole === "follower") {
      acceptStale(this, m);
      return;
    }
    switch (m.type) {
      case "append":
      case "heartbeat":
      case "snapshot":
        this.send({ type: "heartbeat-response", to: m.from, readSeq: 0 });
        return;
      case "vote":
        this.send({ type: "vote-response", to: m.from, granted: false });
        return;
      case "pre-vote":
        this.send({ type: "pre-vote-response", to: m.from, granted: false });
        return;
      default:
        return;
    }
  }
  /** Every caller passes a fresh literal, so it is completed in place rather than copied. */
  send(m, term = this.currentTerm) {
    const envelope = m;
    envelope.from = this.id;
    envelope.term = term;
    this.outbox.push(m);
  }
  // ---- commit -------------------------------------------------------------------------------
  commitTo(index, leaderTerm) {
    if (index <= this.commit) {
      return;
    }
    if (index > this.log.lastIndex()) {
      fail(`commit ${index} beyond last index ${this.log.lastIndex()}`);
    }
    const term = this.log.termAt(index);
    if (term === void 0) {
      fail(`commit ${index} has no term`);
    }
    this.commit = index;
    this.events.push({ type: "committed", index, term, leaderTerm });
  }
  // ---- membership ---------------------------------------------------------------------------
  /** The newest configuration in the log (used as soon as it is appended, as in the thesis). */
  configFromLog() {
    const entry = this.log.lastConfigAtOrBelow(this.log.lastIndex());
    if (entry !== void 0) {
      return [decodeVoters(entry.data), entry.index];
    }
    const meta = this.log.snapshotMeta();
    return [[...meta.voters], meta.lastIncludedIndex];
  }
  refreshConfig() {
    const [voters, index] = this.configFromLog();
    if (index !== this.configIndex || !sameVoters2(voters, this.currentVoters)) {
      this.applyConfig(voters, index);
    }
  }
  applyConfig(voters, index) {
    this.currentVoters = voters;
    this.configIndex = index;
    this.events.push({ type: "membership-changed", voters: [...voters], index });
    if (this.currentRole !== "leader") {
      return;
    }
    for (const id of voters) {
      addProgress(this, id);
    }
    for (const id of [...this.progress.keys()]) {
      if (!voters.includes(id)) {
        this.progress.delete(id);
      }
    }
  }
};
function sameVoters2(a, b) {
  return a.length === b.length && a.every((id, position) => b[position] === id);
}

// systems/raft/core.ts
var RaftCore = class {
  id;
  raft;
  applied;
  applying;
  outstanding = null;
  handedHardState;
  constructor(config, restored) {
    validateConfig(config);
    this.id = config.id;
    this.raft = new Raft(config, restored);
    const base = this.raft.log.snapshotMeta().lastIncludedIndex;
    this.applied = base;
    this.applying = base;
    const hard = restored.hardState;
    this.handedHardState = { term: hard.term, vote: hard.vote, commit: hard.commit };
  }
  // ---- observation (read-only) --------------------------------------------------------------
  get role() {
    return this.raft.currentRole;
  }
  get term() {
    return this.raft.currentTerm;
  }
  get vote() {
    return this.raft.votedFor;
  }
  get leader() {
    return this.raft.leaderId;
  }
  /** The election timer's count: ticks since the timer was last reset (by a leader's message). */
  get electionElapsedTicks() {
    return this.raft.electionElapsed;
  }
  get commitIndex() {
    return this.raft.commit;
  }
  get appliedIndex() {
    return this.applied;
  }
  /** Last index durable on disk (or covered by a snapshot being persisted). */
  get persistedIndex() {
    return this.raft.log.persisted;
  }
  get lastIndex() {
    return this.raft.log.lastIndex();
  }
  get firstIndex() {
    return this.raft.log.firstIndex();
  }
  get snapshotMeta() {
    return this.raft.log.snapshotMeta();
  }
  get voters() {
    return this.raft.currentVoters;
  }
  /** The data of the snapshot the log starts from (empty when there is none). */
  get snapshotData() {
    return this.raft.snapshotData;
  }
  termAt(index) {
    return this.raft.log.termAt(index);
  }
  entryAt(index) {
    return this.raft.log.entryAt(index);
  }
  /** Entries in [lo, hi] (clamped to what the log holds). */
  entries(lo = this.raft.log.firstIndex(), hi = this.raft.log.lastIndex()) {
    const log = this.raft.log;
    return log.slice(Math.max(lo, log.firstIndex()), Math.min(hi, log.lastIndex()));
  }
  hardState() {
    const raft = this.raft;
    return { term: raft.currentTerm, vote: raft.votedFor, commit: raft.commit };
  }
  /** For tests and invariants: the leader's view of a follower. */
  progressOf(id) {
    const pr = this.raft.progress.get(id);
    return pr === void 0 ? void 0 : { match: pr.match, next: pr.next, state: pr.state };
  }
  // ---- inputs -------------------------------------------------------------------------------
  tick() {
    this.raft.tick();
  }
  step(message) {
    this.raft.step(message);
  }
  /** The election timer fired now (etcd's MsgHup). Ignored by a leader and by non-voters. */
  campaign() {
    this.raft.campaign();
  }
  propose(command) {
    if (this.raft.currentRole !== "leader") {
      return this.raft.notLeader();
    }
    return leaderPropose(this.raft, command);
  }
  proposeMembershipChange(change) {
    if (this.raft.currentRole !== "leader") {
      return this.raft.notLeader();
    }
    return leaderProposeMembershipChange(this.raft, change);
  }
  /** Starts a ReadIndex read; its result arrives in a later Ready's readStates. */
  readIndex(requestId) {
    if (this.raft.currentRole !== "leader") {
      return this.raft.notLeader();
    }
    return leaderReadIndex(this.raft, requestId);
  }
  /** The application took a snapshot of its state through index: drop the log prefix. */
  compact(index, snapshotData) {
    if (index > this.applied) {
      fail(`compact(${index}) beyond applied ${this.applied}`);
    }
    const log = this.raft.log;
    const base = log.snapshotMeta().lastIncludedIndex;
    if (index < base) {
      fail(`compact(${index}) below the snapshot at ${base}`);
    }
    if (index === base) {
      return;
    }
    const config = log.lastConfigAtOrBelow(index);
    const voters = config === void 0 ? log.snapshotMeta().voters : decodeVoters(config.data);
    log.compactTo(index, voters);
    this.raft.snapshotData = snapshotData;
    this.raft.snapshotToPersist = { meta: log.snapshotMeta(), data: snapshotData };
  }
  // ---- Ready / advance ----------------------------------------------------------------------
  /**
   * For the adapter's 'vote-without-fsync' / 'ack-before-fsync' variants only: removes the
   * matching messages from the outbox now, without waiting for a Ready and its fsync.
   * A correct adapter never calls this.
   */
  takeMessagesEarly(predicate) {
    const raft = this.raft;
    const taken = raft.outbox.filter(predicate);
    raft.outbox = raft.outbox.filter((message) => !predicate(message));
    return taken;
  }
  hasReady() {
    return this.outstanding === null && this.buildReady(false) !== null;
  }
  /** The next batch of work, or null. Call only after the previous batch was advance()d. */
  ready() {
    assert(this.outstanding === null, "ready() called before advance() of the previous Ready");
    return this.buildReady(true);
  }
  buildReady(take) {
    const raft = this.raft;
    const log = raft.log;
    const handed = this.handedHardState;
    const hardChanged = raft.currentTerm !== handed.term || raft.votedFor !== handed.vote || raft.commit !== handed.commit;
    const entriesToAppend = log.handed < log.lastIndex() ? log.slice(log.handed + 1, log.lastIndex()) : NO_ENTRIES;
    const truncateFrom = entriesToAppend.length > 0 || log.rewritten ? log.handed + 1 : void 0;
    const snapshotToApply = raft.snapshotToApply;
    let applyFrom = this.applying + 1;
    if (snapshotToApply !== void 0) {
      applyFrom = Math.max(applyFrom, snapshotToApply.meta.lastIncludedIndex + 1);
      if (raft.hasBug("snapshot-off-by-one")) {
        applyFrom = snapshotToApply.meta.lastIncludedIndex + 2;
      }
    }
    const applyTo = Math.min(raft.commit, log.persisted);
    const committedEntries = applyFrom <= applyTo ? log.slice(applyFrom, applyTo) : NO_ENTRIES;
    const empty = !hardChanged && truncateFrom === void 0 && raft.snapshotToPersist === void 0 && snapshotToApply === void 0 && committedEntries.length === 0 && raft.outbox.length === 0 && raft.readStates.length === 0 && raft.events.length === 0;
    if (empty) {
      return null;
    }
    const ready = {
      hardState: hardChanged ? this.hardState() : void 0,
      truncateFrom,
      entriesToAppend,
      snapshotToPersist: raft.snapshotToPersist,
      messages: raft.outbox,
      committedEntries,
      readStates: raft.readStates,
      snapshotToApply,
      events: raft.events
    };
    if (take) {
      this.takeReady(ready, Math.max(applyFrom - 1, committedEntries.at(-1)?.index ?? 0));
    }
    return ready;
  }
  takeReady(ready, applying) {
    const raft = this.raft;
    this.outstanding = { handed: raft.log.lastIndex(), applying };
    this.applying = applying;
    raft.log.handed = raft.log.lastIndex();
    raft.log.rewritten = false;
    this.handedHardState = ready.hardState ?? this.handedHardState;
    raft.outbox = [];
    raft.readStates = [];
    raft.events = [];
    raft.snapshotToPersist = void 0;
    raft.snapshotToApply = void 0;
  }
  /** The last Ready is durable, its messages sent and its entries applied. */
  advance() {
    const done = this.outstanding;
    assert(done !== null, "advance() without an outstanding Ready");
    this.outstanding = null;
    const log = this.raft.log;
    log.persisted = Math.max(log.persisted, Math.min(done.handed, log.handed));
    assert(done.applying >= this.applied, "applied index must not go backwards");
    this.applied = done.applying;
    if (this.raft.currentRole === "leader") {
      maybeCommit(this.raft);
    }
  }
};
function validateConfig(config) {
  const positive = (value, name) => assert(
    Number.isInteger(value) && value > 0,
    `${name} must be a positive integer, got ${value}`
  );
  positive(config.electionTicks, "electionTicks");
  positive(config.heartbeatTicks, "heartbeatTicks");
  positive(config.maxEntriesPerAppend, "maxEntriesPerAppend");
  positive(config.maxInflightAppends, "maxInflightAppends");
  positive(config.maxSnapshotChunkBytes, "maxSnapshotChunkBytes");
  assert(
    config.heartbeatTicks < config.electionTicks,
    "heartbeatTicks must be below electionTicks"
  );
  if (config.lease !== void 0) {
    positive(config.lease.durationUs, "lease.durationUs");
    assert(config.checkQuorum, "lease reads need checkQuorum");
  }
}
var NO_ENTRIES = Object.freeze([]);

// systems/raft/types.ts
var RAFT_BUGS = [
  "commit-previous-term",
  "accept-stale-term",
  "no-truncate-on-conflict",
  "snapshot-off-by-one",
  "vote-without-fsync",
  "ack-before-fsync",
  "forget-vote-on-restart",
  "torn-tail-refused",
  "recover-drops-last-entry",
  "leader-never-steps-down",
  "lease-renewed-on-send",
  "lease-vote-after-restart",
  "lease-on-ticks",
  "lease-ignores-drift"
];
function messageNeedsDurability(message) {
  switch (message.type) {
    case "vote-response":
      return message.granted ? "vote" : null;
    case "append-response":
    case "snapshot-response":
      return "ack";
    default:
      return null;
  }
}

// systems/raft/group.ts
var LOG_FILE2 = "raft.log";
var SNAPSHOT_FILE = "raft.snapshot";
var SYNC_MARKS_FILE = "raft.synced";
var BUGGIFY_SNAPSHOT_ENTRIES_MIN = 16;
var READY_ROUNDS_MAX = 64;
var ENTRY_OVERHEAD_BYTES = 24;
var MESSAGE_OVERHEAD_BYTES = 48;
var DEFAULT_RAFT_OPTIONS = {
  tickUs: 1e4,
  electionTicks: 10,
  heartbeatTicks: 2,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 16,
  maxInflightAppends: 4,
  maxSnapshotChunkBytes: 1024,
  snapshotEveryEntries: 0,
  logRewriteBytes: 64 * 1024,
  readMode: "read-index",
  leaseDriftPpmMax: 1e4,
  syncMarks: false,
  bugs: /* @__PURE__ */ new Set()
};
var NO_SYNC_MARKS = { slots: [], syncedThrough: null, nextSlot: 0 };
function planRaftOptions(workload) {
  const syncMarks = workload["syncMarks"];
  return typeof syncMarks === "boolean" ? { syncMarks } : {};
}
var PPM = 1e6;
function leaseDurationUs(tickUs, electionTicks, driftPpmMax) {
  assert(electionTicks >= 2, "a lease needs electionTicks of at least 2");
  assert(driftPpmMax >= 0 && driftPpmMax < PPM, "the drift bound must lie in [0, 10^6) ppm");
  return Math.floor((electionTicks - 1) * tickUs * (PPM - driftPpmMax) / (PPM + driftPpmMax));
}
function bugsForVariant(variant) {
  const name = variantFor(variant, "raft");
  if (name === null || !RAFT_BUGS.includes(name)) {
    return /* @__PURE__ */ new Set();
  }
  return /* @__PURE__ */ new Set([name]);
}
var CLIENT_REQUESTS = /* @__PURE__ */ new Set(["propose", "read", "campaign", "membership"]);
var RaftGroup = class {
  constructor(ctx, config) {
    this.ctx = ctx;
    assert(config.id.length > 0, "a Raft group needs an id");
    assert(config.peers.length > 0, `Raft group ${config.id} has no peers`);
    this.id = config.id;
    this.stateMachine = config.stateMachine;
    this.options = { ...DEFAULT_RAFT_OPTIONS, ...config.options };
    this.peers = config.peers;
    this.files = groupFiles(config.filePrefix);
    this.tickTag = `raft:${config.id}:tick`;
    this.onReply = config.onReply;
    this.afterProcess = config.afterProcess;
  }
  ctx;
  core;
  id;
  stateMachine;
  options;
  peers;
  files;
  tickTag;
  onReply;
  afterProcess;
  persisting = null;
  nextBatch = 0;
  /** The sync-mark slot the next mark goes to (never the one holding the newest mark). */
  nextMarkSlot = 0;
  /** Size of the log file right after the last rewrite (0: none yet). */
  lastRewriteBytes = 0;
  /**
   * The snapshot index from which a rewrite sheds every entry the last rewrite kept, and at
   * least one more: past the last rewrite's persisted index and its snapshot index.
   */
  rewriteShedsAllKeptAtIndex = 0;
  /** The index the snapshot file on disk covers. */
  durableSnapshotIndex = 0;
  /** Set by recovery when the log file disagrees with the snapshot file (see logBehindSnapshot). */
  rewriteBeforeAppending = false;
  /** Set when the disk holds damaged durable data: the node refuses to take part. */
  refused = false;
  proposals = /* @__PURE__ */ new Map();
  reads = /* @__PURE__ */ new Map();
  nextReadId = 1;
  /** Ticks delivered to the core by this incarnation (what 'lease-on-ticks' times with). */
  ticks = 0;
  appliedDigests = /* @__PURE__ */ new Map();
  view;
  /** What this incarnation rebuilt from its disk (set by start()). */
  recovered;
  /** The recovered commit index until this incarnation has applied up to it (then null). */
  replayTo = null;
  /** False until started, and for good once the disk held damaged durable state. */
  get running() {
    return !this.refused && this.core !== void 0;
  }
  /** Whether a message is this group's: its Raft traffic, or a client request for it. */
  owns(message) {
    const group = message["group"];
    return group === this.id || group === void 0 && CLIENT_REQUESTS.has(message.type);
  }
  /** Reports a fact about this group to invariants. */
  observe(observation) {
    observation.group = this.id;
    this.ctx.observe(observation);
  }
  // --- boot and recovery ------------------------------------------------------------------
  /** First boot and every restart: rebuild from the disk, then start ticking. */
  start() {
    const restored = this.recover();
    if (restored === null) {
      return;
    }
    const random = this.ctx.random;
    this.core = new RaftCore(
      {
        id: this.ctx.id,
        voters: this.peers,
        electionTicks: this.options.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks,
        preVote: this.options.preVote,
        checkQuorum: this.options.checkQuorum,
        maxEntriesPerAppend: this.options.maxEntriesPerAppend,
        maxInflightAppends: this.options.maxInflightAppends,
        maxSnapshotChunkBytes: this.options.maxSnapshotChunkBytes,
        bugs: this.options.bugs,
        randomInt: (maxExclusive) => random.int(maxExclusive),
        buggify: (label) => this.ctx.buggify(label),
        ...this.leaseConfig()
      },
      restored
    );
    if (restored.snapshotData !== void 0 && restored.snapshotMeta.lastIncludedIndex > 0) {
      this.restoreSnapshot(
        restored.snapshotData,
        restored.snapshotMeta.lastIncludedIndex,
        restored.snapshotMeta.lastIncludedTerm
      );
    }
    this.recovered = this.recoveredState();
    this.replayTo = this.recovered.commit > this.recovered.snapshotIndex ? this.recovered.commit : null;
    const hard = restored.hardState;
    this.observe({
      type: "restarted",
      term: hard.term,
      vote: hard.vote,
      commit: hard.commit,
      lastIndex: this.core.lastIndex,
      snapshotIndex: restored.snapshotMeta.lastIncludedIndex,
      snapshotTerm: restored.snapshotMeta.lastIncludedTerm
    });
    this.ctx.setTimer(this.options.tickUs, this.tickTag);
  }
  /** What the core and state machine hold right after recovery, for the recovery check. */
  recoveredState() {
    const core = this.core;
    const meta = core.snapshotMeta;
    return {
      logFile: this.files.log,
      snapshotFile: this.files.snapshot,
      term: core.term,
      vote: core.vote,
      commit: core.commitIndex,
      snapshotIndex: meta.lastIncludedIndex,
      snapshotTerm: meta.lastIncludedTerm,
      snapshotVoters: [...meta.voters],
      snapshotDataDigest: digestValue(core.snapshotData),
      stateMachineDigest: meta.lastIncludedIndex > 0 ? digestValue(this.stateMachine.snapshot()) : void 0,
      entries: core.entries().map((entry) => ({
        index: entry.index,
        term: entry.term,
        digest: entryDigest(entry.kind, entry.data)
      }))
    };
  }
  leaseConfig() {
    const { readMode, tickUs, electionTicks, leaseDriftPpmMax, bugs } = this.options;
    if (readMode !== "lease") {
      return {};
    }
    const driftPpm = bugs.has("lease-ignores-drift") ? 0 : leaseDriftPpmMax;
    const durationUs = leaseDurationUs(tickUs, electionTicks, driftPpm);
    const clockUs = bugs.has("lease-on-ticks") ? () => this.ticks * tickUs : () => this.ctx.monotonic();
    return { lease: { durationUs, clockUs } };
  }
  recover() {
    const disk = this.ctx.disk;
    const files = this.files;
    disk.remove(files.snapshotTemp);
    disk.remove(files.logTemp);
    const logBytes = readStable(disk, files.log);
    const decoded = decodeLog2(logBytes);
    if (decoded.status.kind === "corrupt") {
      this.refuse(
        `log corrupt at byte ${decoded.status.offset}: ${decoded.status.reason}`,
        decoded.status.offset
      );
      return null;
    }
    const marks = this.options.syncMarks ? decodeSyncMarks(readStable(disk, files.syncMarks)) : NO_SYNC_MARKS;
    this.nextMarkSlot = marks.nextSlot;
    if (decoded.status.kind === "torn-tail" && this.options.bugs.has("torn-tail-refused")) {
      this.refuse("log damaged at its tail", decoded.status.truncateAt);
      return null;
    }
    if (decoded.status.kind === "torn-tail") {
      const { batch, truncateAt, reason } = decoded.status;
      if (tailVerdict(batch, marks) === "refuse") {
        this.refuse(
          `log's last batch ${batch} is damaged (${reason}), yet its fsync completed (synced through batch ${marks.syncedThrough}${marks.slots.some((slot) => slot.kind === "bad") ? ", and a sync mark is damaged" : ""}): synced data was damaged, not torn`,
          truncateAt
        );
        return null;
      }
      disk.truncate(files.logTemp, 0);
      if (truncateAt > 0) {
        disk.write(files.logTemp, 0, logBytes.subarray(0, truncateAt));
      }
      this.persisting = {
        stage: "recovery-copy",
        syncId: disk.fsync(files.logTemp),
        batch: decoded.nextBatch - 1,
        repairMarks: this.options.syncMarks && marksNeedRepair(marks, decoded.nextBatch - 1)
      };
      this.observe({ type: "torn-tail-recovered", truncateAt });
    }
    this.nextBatch = decoded.nextBatch;
    if (this.persisting === null && this.options.syncMarks && marksNeedRepair(marks, decoded.nextBatch - 1)) {
      this.persisting = {
        stage: "recovery",
        syncId: disk.fsync(files.log),
        batch: decoded.nextBatch - 1
      };
    }
    if (marks.syncedThrough !== null && marks.syncedThrough >= decoded.nextBatch) {
      this.rewriteBeforeAppending = true;
    }
    let replayed = replayLog(decoded.records);
    if (this.options.bugs.has("recover-drops-last-entry") && replayed.entries.length > 0) {
      replayed = { ...replayed, entries: replayed.entries.slice(0, -1) };
    }
    if (!disk.exists(files.snapshot)) {
      return replayed;
    }
    const snapshot = decodeSnapshotFile(readStable(disk, files.snapshot));
    if (!snapshot.ok) {
      this.refuse(`snapshot file damaged: ${snapshot.reason}`, 0);
      return null;
    }
    const meta = snapshot.snapshot.meta;
    this.durableSnapshotIndex = meta.lastIncludedIndex;
    let entries = replayed.entries;
    if (meta.lastIncludedIndex > replayed.snapshotMeta.lastIncludedIndex) {
      entries = this.logBehindSnapshot(entries, meta);
    }
    return { ...replayed, entries, snapshotMeta: meta, snapshotData: snapshot.snapshot.data };
  }
  /**
   * The snapshot file is newer than any snapshot the log records: it was renamed into place
   * and the log batch recording it (with the truncation an install may imply) was lost to a
   * failed fsync or a crash (raft seed 25804). Recover as installSnapshot would have — keep
   * the log's suffix only if it matches the snapshot — and rewrite the log before anything
   * else is appended to it, or the next recovery would read entries after a gap.
   */
  logBehindSnapshot(entries, meta) {
    const last = entries.find((entry) => entry.index === meta.lastIncludedIndex);
    const suffixKept = last?.term === meta.lastIncludedTerm;
    this.rewriteBeforeAppending = true;
    this.ctx.log("log behind its snapshot file: rewriting it", {
      snapshotIndex: meta.lastIncludedIndex,
      suffixKept
    });
    return suffixKept ? entries.filter((entry) => entry.index > meta.lastIncludedIndex) : [];
  }
  /** Damaged durable state is detected, never applied: this node stays out of the cluster. */
  refuse(reason, offset) {
    this.refused = true;
    this.persisting = null;
    this.ctx.log("refusing to start", { reason });
    this.observe({ type: "corruption-detected", offset, reason });
  }
  // --- inputs -----------------------------------------------------------------------------
  /** A message this group owns (see owns()): Raft traffic or a client request. */
  onMessage(from2, message) {
    if (!this.running) {
      return;
    }
    switch (message.type) {
      case "propose":
        this.onPropose(from2, message);
        break;
      case "read":
        this.onRead(from2, message);
        break;
      case "campaign":
        this.core.campaign();
        break;
      case "membership": {
        const change = message;
        if (this.core.role === "leader") {
          const result = this.core.proposeMembershipChange({
            type: change.change,
            node: change.node
          });
          this.ctx.log("membership change proposed", { ...change, ok: result.ok });
        }
        break;
      }
      default:
        this.core.step(message);
    }
    this.process();
  }
  /** Handles the group's own timer; false when the tag is not this group's. */
  onTimer(tag) {
    if (tag !== this.tickTag) {
      return false;
    }
    if (!this.running) {
      return true;
    }
    if (!this.ctx.buggify("raft.skip-tick")) {
      this.ticks++;
      this.core.tick();
    }
    this.ctx.setTimer(this.options.tickUs, this.tickTag);
    this.process();
    return true;
  }
  onPropose(client, request) {
    const result = this.core.propose(request.data);
    if (!result.ok) {
      this.reply(client, { type: "not-leader", id: request.id, leaderHint: result.leaderHint });
      return;
    }
    this.proposals.set(result.index, { client, id: request.id, term: result.term });
  }
  onRead(client, request) {
    const readId = this.nextReadId++;
    const result = this.core.readIndex(readId);
    if (!result.ok) {
      this.reply(client, { type: "not-leader", id: request.id, leaderHint: result.leaderHint });
      return;
    }
    this.observe({ type: "read-requested", readId });
    this.reads.set(readId, { client, id: request.id });
  }
  /** Answers a client (through the holder's onReply when it has one). */
  reply(client, reply) {
    if (this.onReply !== void 0) {
      this.onReply(client, reply);
      return;
    }
    this.sendReply(client, reply);
  }
  /** Sends a reply on the wire, whoever produced it. */
  sendReply(client, reply) {
    if (client < 0) {
      return;
    }
    this.ctx.send(client, reply, 64);
  }
  // --- the Ready loop ---------------------------------------------------------------------
  /** Drives the core: persist the next Ready, or hand it out once durable. */
  process() {
    this.processReadies();
    this.afterProcess?.();
  }
  processReadies() {
    for (let round = 0; round < READY_ROUNDS_MAX; round++) {
      this.sendEarlyIfBuggy();
      if (this.persisting !== null || this.maybeRewriteLog()) {
        return;
      }
      const ready = this.core.ready();
      if (ready === null) {
        return;
      }
      if (ready.snapshotToPersist !== void 0) {
        this.ctx.disk.remove(this.files.snapshotTemp);
        this.ctx.disk.write(
          this.files.snapshotTemp,
          0,
          encodeSnapshotFile(ready.snapshotToPersist)
        );
        this.persisting = {
          stage: "snapshot",
          syncId: this.ctx.disk.fsync(this.files.snapshotTemp),
          ready
        };
        return;
      }
      if (this.persistLog(ready)) {
        return;
      }
      this.handOut(ready);
    }
  }
  /** Appends the Ready's records as one batch and starts its fsync; false if none. */
  persistLog(ready) {
    const records = readyRecords(ready);
    if (records.length === 0) {
      return false;
    }
    const batch = this.nextBatch++;
    const startsFile = this.ctx.disk.size(this.files.log) === 0;
    this.ctx.disk.append(this.files.log, encodeBatchTransient(batch, records, startsFile));
    this.persisting = { stage: "log", syncId: this.ctx.disk.fsync(this.files.log), ready, batch };
    return true;
  }
  /** Records that the log is synced through `batch`, and starts that record's fsync. */
  markSynced(batch) {
    const { offsetBytes, bytes } = encodeSyncMark(this.nextMarkSlot, batch);
    this.ctx.disk.write(this.files.syncMarks, offsetBytes, bytes);
    this.nextMarkSlot = (this.nextMarkSlot + 1) % SYNC_MARK_SLOTS;
    return this.ctx.disk.fsync(this.files.syncMarks);
  }
  /** An fsync finished; false when it was not this group's. */
  onSynced(syncId, ok) {
    const persisting = this.persisting;
    if (persisting === null || persisting.syncId !== syncId) {
      return false;
    }
    if (!ok) {
      this.observe({ type: "fsync-failed" });
      throw new ProcessExit("fsync failed");
    }
    this.persisting = null;
    if (persisting.stage === "log" && this.options.syncMarks) {
      this.persisting = {
        stage: "mark",
        syncId: this.markSynced(persisting.batch),
        ready: persisting.ready
      };
      return true;
    }
    if (persisting.stage === "rewrite" && this.options.syncMarks) {
      this.persisting = { stage: "rewrite-mark", syncId: this.markSynced(persisting.batch) };
      return true;
    }
    if (persisting.stage === "recovery") {
      this.persisting = { stage: "recovery-mark", syncId: this.markSynced(persisting.batch) };
      return true;
    }
    if (persisting.stage === "recovery-copy") {
      this.ctx.disk.rename(this.files.logTemp, this.files.log);
      if (persisting.repairMarks) {
        this.persisting = { stage: "recovery-mark", syncId: this.markSynced(persisting.batch) };
        return true;
      }
    }
    if (persisting.stage === "recovery-mark" || persisting.stage === "recovery-copy") {
    } else if (persisting.stage === "rewrite-mark" || persisting.stage === "rewrite") {
      this.ctx.disk.rename(this.files.logTemp, this.files.log);
    } else if (persisting.stage === "snapshot") {
      this.ctx.disk.rename(this.files.snapshotTemp, this.files.snapshot);
      this.durableSnapshotIndex = persisting.ready.snapshotToPersist?.meta.lastIncludedIndex ?? 0;
      if (!this.persistLog(persisting.ready)) {
        this.handOut(persisting.ready);
      }
    } else {
      this.handOut(persisting.ready);
    }
    this.process();
    return true;
  }
  /** The buggy variants send votes or acknowledgements before they are durable. */
  sendEarlyIfBuggy() {
    const bugs = this.options.bugs;
    if (!bugs.has("vote-without-fsync") && !bugs.has("ack-before-fsync")) {
      return;
    }
    const early = this.core.takeMessagesEarly((message) => {
      const need = messageNeedsDurability(message);
      return need === "vote" && bugs.has("vote-without-fsync") || need === "ack" && bugs.has("ack-before-fsync");
    });
    for (const message of early) {
      this.send(message);
    }
  }
  send(message) {
    if (message.type === "vote-response" && message.granted) {
      this.observe({ type: "vote-sent", term: message.term, to: message.to });
    }
    let sizeBytes = MESSAGE_OVERHEAD_BYTES;
    if (message.type === "append") {
      for (const entry of message.entries) {
        sizeBytes += ENTRY_OVERHEAD_BYTES + entry.data.length;
      }
    } else if (message.type === "snapshot") {
      sizeBytes += message.data.length;
    }
    message.group = this.id;
    this.ctx.send(message.to, message, sizeBytes);
  }
  /** Everything in the Ready is durable: send, apply, answer, observe, advance. */
  handOut(ready) {
    for (const message of ready.messages) {
      this.send(message);
    }
    if (ready.snapshotToApply !== void 0) {
      const { meta, data } = ready.snapshotToApply;
      this.restoreSnapshot(data, meta.lastIncludedIndex, meta.lastIncludedTerm);
    }
    for (const entry of ready.committedEntries) {
      this.apply(entry);
    }
    for (const readState of ready.readStates) {
      this.answerRead(readState);
    }
    for (const event of ready.events) {
      this.observe(event);
    }
    this.core.advance();
    this.maybeSnapshot();
  }
  restoreSnapshot(data, index, term) {
    this.replayTo = null;
    this.stateMachine.restore(data);
    this.appliedDigests.clear();
    this.observe({ type: "snapshot-applied", index, term });
  }
  apply(entry) {
    const result = entry.kind === "command" ? this.stateMachine.apply(entry) : void 0;
    const digest = entryDigest(entry.kind, entry.data);
    this.appliedDigests.set(entry.index, digest);
    this.observe({
      type: "applied",
      index: entry.index,
      term: entry.term,
      kind: entry.kind,
      digest
    });
    if (entry.index === this.replayTo) {
      this.replayTo = null;
      const stateDigest = digestValue(this.stateMachine.snapshot());
      this.observe({ type: "recovery-replayed", index: entry.index, stateDigest });
    }
    const proposal = this.proposals.get(entry.index);
    if (proposal === void 0) {
      return;
    }
    this.proposals.delete(entry.index);
    if (proposal.term === entry.term) {
      this.reply(proposal.client, {
        type: "propose-ok",
        id: proposal.id,
        index: entry.index,
        term: entry.term,
        result
      });
    } else {
      this.reply(proposal.client, {
        type: "request-failed",
        id: proposal.id,
        reason: "overwritten by a new leader"
      });
    }
  }
  answerRead(readState) {
    const read = this.reads.get(readState.requestId);
    if (read === void 0) {
      return;
    }
    this.reads.delete(readState.requestId);
    if (!readState.ok) {
      this.reply(read.client, { type: "request-failed", id: read.id, reason: "leadership lost" });
      return;
    }
    assert(readState.index <= this.core.commitIndex, "a read index beyond the commit index");
    this.observe({ type: "read-served", readId: readState.requestId, index: readState.index });
    this.reply(read.client, { type: "read-ok", id: read.id, index: readState.index });
  }
  maybeSnapshot() {
    const every = this.options.snapshotEveryEntries;
    const applied = this.core.appliedIndex;
    const due = every > 0 && applied - this.core.snapshotMeta.lastIncludedIndex >= every;
    const early = applied - this.core.snapshotMeta.lastIncludedIndex >= BUGGIFY_SNAPSHOT_ENTRIES_MIN && this.ctx.buggify("raft.snapshot-early");
    if (due || early) {
      this.core.compact(applied, this.stateMachine.snapshot());
    }
  }
  /**
   * Once the log file has grown past the limit and a snapshot covers its prefix, rewrite it
   * as one batch holding only what the snapshot does not cover; rename makes it atomic.
   */
  maybeRewriteLog() {
    const snapshot = this.core.snapshotMeta;
    if (snapshot.lastIncludedIndex === 0 || snapshot.lastIncludedIndex !== this.durableSnapshotIndex) {
      return false;
    }
    const sizeBytes = this.ctx.disk.size(this.files.log);
    const grown = sizeBytes >= 2 * this.lastRewriteBytes || snapshot.lastIncludedIndex >= this.rewriteShedsAllKeptAtIndex;
    const large = sizeBytes >= this.options.logRewriteBytes;
    const wanted = grown && (large || this.ctx.buggify("raft.rewrite-log-early"));
    if (!wanted && !this.rewriteBeforeAppending) {
      return false;
    }
    this.rewriteBeforeAppending = false;
    const persistedIndex = this.core.persistedIndex;
    const durableEntries = this.core.entries(snapshot.lastIncludedIndex + 1, persistedIndex);
    const hardState = this.core.hardState();
    const batch = this.nextBatch++;
    const bytes = encodeBatch(
      batch,
      [
        { type: "snapshot-meta", meta: snapshot },
        ...durableEntries.map((entry) => ({ type: "entry", entry })),
        // The commit index may already cover entries not yet on disk.
        {
          type: "hard-state",
          hardState: { ...hardState, commit: Math.min(hardState.commit, persistedIndex) }
        }
      ],
      true
    );
    this.ctx.disk.remove(this.files.logTemp);
    this.ctx.disk.write(this.files.logTemp, 0, bytes);
    this.lastRewriteBytes = bytes.length;
    this.rewriteShedsAllKeptAtIndex = Math.max(persistedIndex, snapshot.lastIncludedIndex + 1);
    this.persisting = {
      stage: "rewrite",
      syncId: this.ctx.disk.fsync(this.files.logTemp),
      batch
    };
    this.observe({
      type: "log-rewritten",
      bytes: bytes.length,
      snapshotIndex: snapshot.lastIncludedIndex
    });
    return true;
  }
  /** Bytes in the group's log file (MIT's persister.RaftStateSize). */
  get logBytes() {
    return this.ctx.disk.size(this.files.log);
  }
  get snapshotBytes() {
    return this.ctx.disk.size(this.files.snapshot);
  }
  /** A god's-eye view for invariants; undefined while the group refuses to start. */
  inspect() {
    if (!this.running) {
      return void 0;
    }
    this.view ??= new LiveRaftView(this);
    return this.view;
  }
};
function groupFiles(prefix) {
  return {
    syncMarks: `${prefix}${SYNC_MARKS_FILE}`,
    log: `${prefix}${LOG_FILE2}`,
    logTemp: `${prefix}${LOG_FILE2}.tmp`,
    snapshot: `${prefix}${SNAPSHOT_FILE}`,
    snapshotTemp: `${prefix}${SNAPSHOT_FILE}.tmp`
  };
}
var LiveRaftView = class {
  constructor(node) {
    this.node = node;
  }
  node;
  get group() {
    return this.node.id;
  }
  raftGroup(group) {
    return group === void 0 || group === this.node.id ? this : void 0;
  }
  get role() {
    return this.node.core.role;
  }
  get term() {
    return this.node.core.term;
  }
  get vote() {
    return this.node.core.vote;
  }
  get leader() {
    return this.node.core.leader;
  }
  get electionElapsedTicks() {
    return this.node.core.electionElapsedTicks;
  }
  get commitIndex() {
    return this.node.core.commitIndex;
  }
  get appliedIndex() {
    return this.node.core.appliedIndex;
  }
  get firstIndex() {
    return this.node.core.firstIndex;
  }
  get lastIndex() {
    return this.node.core.lastIndex;
  }
  get snapshotIndex() {
    return this.node.core.snapshotMeta.lastIncludedIndex;
  }
  get snapshotTerm() {
    return this.node.core.snapshotMeta.lastIncludedTerm;
  }
  get voters() {
    return this.node.core.voters;
  }
  get appliedDigests() {
    return this.node.appliedDigests;
  }
  get recovered() {
    return this.node.recovered;
  }
  get stateMachine() {
    return this.node.stateMachine;
  }
  termAt(index) {
    return this.node.core.termAt(index);
  }
  /** Only where the state machine declares fresh(): the checkers then count on a rebuild. */
  get rebuildStateMachine() {
    return this.node.stateMachine.fresh === void 0 ? void 0 : this.rebuild;
  }
  rebuild = (snapshot, entries) => {
    const machine = this.node.stateMachine.fresh?.();
    if (machine === void 0) {
      return void 0;
    }
    if (snapshot !== void 0) {
      machine.restore(snapshot);
    }
    for (const entry of entries) {
      if (entry.kind === "command") {
        machine.apply(entry);
      }
    }
    return digestValue(machine.snapshot());
  };
  digestAt(index) {
    const entry = this.node.core.entryAt(index);
    return entry === void 0 ? void 0 : entryDigest(entry.kind, entry.data);
  }
};

// systems/raft/client.ts
var DEFAULTS = {
  requestTimeoutUs: 3e5,
  thinkUs: 5e3,
  group: "servers"
};
var RaftClient = class {
  constructor(ctx, options = {}) {
    this.ctx = ctx;
    const thinkUs = ctx.workload["thinkUs"];
    this.options = {
      ...DEFAULTS,
      ...options,
      ...typeof thinkUs === "number" ? { thinkUs } : {}
    };
    const readPercent = ctx.workload["readPercent"];
    this.readPercent = typeof readPercent === "number" ? readPercent : 0;
    assert(this.readPercent >= 0 && this.readPercent <= 100, "readPercent is a percentage");
    this.servers = ctx.members(this.options.group);
    const raftGroup = this.options.raftGroup;
    this.stream = raftGroup ?? this.options.group;
    this.requestTag = raftGroup === void 0 ? {} : { group: raftGroup };
    this.target = this.servers[ctx.id % this.servers.length];
  }
  ctx;
  sequence = 0;
  operationId = -1;
  /** The operation under way (its id is commandId): a proposal or a read. */
  operationKind = "propose";
  /** Percent of operations that are reads (0: proposals only). */
  readPercent;
  commandId = "";
  /** encodeCommand(commandId), encoded once per command: resends and retries reuse it. */
  commandData = new Uint8Array(0);
  target;
  timer = -1;
  resendPending = false;
  options;
  servers;
  /** The Raft group its history and observations name. */
  stream;
  /** Added to every request: the group it is for, on a multi-Raft node. */
  requestTag;
  onStart() {
    this.ctx.setTimer(this.options.thinkUs, "next");
  }
  /** Starts the next operation: a read with probability readPercent, else a proposal. */
  next() {
    const read = this.readPercent > 0 && this.ctx.random.chance(this.readPercent / 100);
    this.sequence++;
    if (read) {
      this.operationKind = "read";
      this.commandId = `${this.ctx.name}-r${this.sequence}`;
    } else {
      this.operationKind = "propose";
      this.commandId = `${this.ctx.name}-${this.sequence}`;
      this.commandData = encodeCommand(this.commandId);
    }
    this.operationId = this.ctx.history.invoke(
      { f: this.operationKind, id: this.commandId },
      { stream: this.stream }
    );
    this.sendCurrent();
    this.timer = this.ctx.setTimer(this.options.requestTimeoutUs, "timeout");
  }
  sendCurrent() {
    if (this.operationKind === "read") {
      this.ctx.send(
        this.target,
        { type: "read", id: this.commandId, ...this.requestTag },
        32 + this.commandId.length
      );
      return;
    }
    this.ctx.send(
      this.target,
      { type: "propose", id: this.commandId, data: this.commandData, ...this.requestTag },
      32 + this.commandId.length
    );
  }
  onMessage(from2, message) {
    const reply = message;
    if (reply.id !== this.commandId || this.operationId < 0) {
      return;
    }
    switch (reply.type) {
      case "read-ok":
        if (this.operationKind !== "read") {
          return;
        }
        this.completed(from2, "read-answered", { index: reply.index });
        return;
      case "propose-ok":
        if (this.operationKind !== "propose") {
          return;
        }
        this.completed(from2, "proposal-acked", { index: reply.index, term: reply.term });
        return;
      case "not-leader":
        if (this.resendPending || from2 !== this.target) {
          return;
        }
        this.target = reply.leaderHint ?? this.ctx.random.pick(this.servers);
        this.resendPending = true;
        this.ctx.setTimer(this.options.thinkUs, "resend");
        return;
      default:
        return;
    }
  }
  /**
   * The operation under way succeeded (answered by `from`): into the history and observed
   * with `output`, then the next one after the think time, to the server that answered.
   */
  completed(from2, type, output) {
    this.ctx.cancelTimer(this.timer);
    this.ctx.history.complete(this.operationId, "ok", output);
    this.ctx.observe({ type, group: this.stream, id: this.commandId, ...output });
    this.operationId = -1;
    this.target = from2;
    this.ctx.setTimer(this.options.thinkUs, "next");
  }
  onTimer(tag) {
    if (tag === "next" && this.operationId < 0) {
      this.next();
    } else if (tag === "resend") {
      this.resendPending = false;
      if (this.operationId >= 0) {
        this.sendCurrent();
      }
    } else if (tag === "timeout" && this.operationId >= 0) {
      this.operationId = -1;
      this.target = this.ctx.random.pick(this.servers);
      this.ctx.setTimer(this.options.thinkUs, "next");
    }
  }
  inspect() {
    return { role: "client", operations: this.sequence };
  }
};

// systems/raft/log-machine.ts
var decoder = new TextDecoder();
var encoder = new TextEncoder();
var CommandLog = class _CommandLog {
  commands = [];
  apply(entry) {
    this.commands.push(decoder.decode(entry.data));
    return this.commands.length;
  }
  snapshot() {
    return encoder.encode(JSON.stringify(this.commands));
  }
  fresh() {
    return new _CommandLog();
  }
  restore(data) {
    this.commands = JSON.parse(decoder.decode(data));
  }
};

// systems/raft/multi-node.ts
var MultiRaftNode = class {
  groups;
  byId;
  constructor(ctx, config) {
    assert(config.groups.length > 0, "a multi-Raft node hosts at least one group");
    assert(new Set(config.groups).size === config.groups.length, "Raft group ids are unique");
    const peers = ctx.members(config.peersGroup);
    this.groups = config.groups.map(
      (id) => new RaftGroup(ctx, {
        id,
        peers,
        filePrefix: `${id}/`,
        stateMachine: config.stateMachine(id),
        ...config.options === void 0 ? {} : { options: config.options }
      })
    );
    this.byId = new Map(this.groups.map((group) => [group.id, group]));
  }
  onStart() {
    for (const group of this.groups) {
      group.start();
    }
  }
  onMessage(from2, message) {
    const id = message["group"];
    if (typeof id === "string") {
      this.byId.get(id)?.onMessage(from2, message);
    }
  }
  onTimer(tag) {
    const claimed = this.groups.some((group) => group.onTimer(tag));
    if (!claimed) {
      fail(`timer ${tag} belongs to no Raft group of this node`);
    }
  }
  onSynced(syncId, ok) {
    this.groups.some((group) => group.onSynced(syncId, ok));
  }
  inspect() {
    return {
      raftGroup: (id) => id === void 0 ? void 0 : this.byId.get(id)?.inspect()
    };
  }
};

// systems/raft/node.ts
var RaftNode = class {
  raft;
  constructor(ctx, stateMachine, options = {}) {
    this.raft = new RaftGroup(ctx, {
      id: ctx.group,
      peers: ctx.members(ctx.group),
      filePrefix: "",
      stateMachine,
      options
    });
  }
  onStart() {
    this.raft.start();
  }
  onMessage(from2, message) {
    this.raft.onMessage(from2, message);
  }
  onTimer(tag) {
    this.raft.onTimer(tag);
  }
  onSynced(syncId, ok) {
    this.raft.onSynced(syncId, ok);
  }
  inspect() {
    return this.raft.inspect();
  }
};

// systems/raft/program.ts
var RAFT_VARIANTS = {
  "commit-previous-term": "a leader commits an entry of an earlier term by counting replicas (Figure 8)",
  "vote-without-fsync": "a node sends its vote before the vote is durable",
  "forget-vote-on-restart": "a restarted node forgets whom it voted for in its current term",
  "ack-before-fsync": "a follower acknowledges appended entries before they are durable",
  "accept-stale-term": "a node accepts appends and grants votes from a lower term",
  "no-truncate-on-conflict": "a follower keeps the old suffix after a conflicting entry",
  "snapshot-off-by-one": "installing a snapshot skips the entry just after it",
  "torn-tail-refused": "recovery takes a torn unsynced tail for corruption and refuses to start after a plain crash",
  "recover-drops-last-entry": "recovery drops the newest log entry, taking it for a possibly torn write, though its batch checksummed whole",
  "leader-never-steps-down": "a leader counts its quorum every election timeout but never steps down when it is missing (check-quorum that does not act)"
};
var LEASE_VARIANTS = {
  "lease-renewed-on-send": "the leader renews its read lease whenever it sends heartbeats, not when a quorum acknowledges them",
  "lease-on-ticks": "the leader times its read lease by counting ticks, which stop while its process is paused",
  "lease-vote-after-restart": "a restarted server grants votes at once, though a leader may still count on its acknowledgement for a lease",
  "lease-ignores-drift": "the lease is not shortened for the clock drift it assumes, so at the drift bound it outlives the followers\u2019 vote refusal"
};
function raftServer(options = {}) {
  return (context) => new RaftNode(context, new CommandLog(), {
    ...options,
    ...planServerOptions(context.workload),
    bugs: bugsForVariant(context.variant)
  });
}
function planServerOptions(workload) {
  const every = workload["snapshotEveryEntries"];
  return {
    ...planRaftOptions(workload),
    ...typeof every === "number" ? { snapshotEveryEntries: every } : {}
  };
}
function raftMultiServer(groups3, options = {}) {
  return (context) => new MultiRaftNode(context, {
    groups: groups3,
    peersGroup: context.group,
    stateMachine: () => new CommandLog(),
    options: {
      ...options,
      ...planServerOptions(context.workload),
      bugs: bugsForVariant(context.variant)
    }
  });
}
function raftClient(options = {}) {
  return (context) => new RaftClient(context, options);
}
function raftGroups(servers, clients, serverOptions = {}, clientOptions = {}) {
  return serversAndClients(servers, clients, raftServer(serverOptions), raftClient(clientOptions));
}

// scenarios/raft.ts
var SECOND = 1e6;
var RAFT_SWARM_FAULTS = {
  eligible: FAULT_KINDS.filter((kind) => kind !== "latent-sector"),
  swarm: true
};
var RAFT_CLIENT_PACE = {
  thinkUs: { min: 1e3, max: 2e4 },
  readPercent: { min: 1, max: 50 }
};
var RAFT_SWARM_SOMETIMES = {
  ...raftSometimes,
  ...raftClientSometimes,
  ...raftClientReadSometimes,
  ...raftMediaFaultSometimes
};
registerScenario({
  name: "raft",
  description: "3 or 5 Raft servers under every fault kind while 1\u20134 clients propose, 0.5\u201315 s of faults; safety always, a leader and fresh commits after settle.",
  system: "raft",
  durationUs: 10 * SECOND,
  settleUs: 5 * SECOND,
  shape: {
    durationUs: { min: SECOND / 2, max: 15 * SECOND },
    groupSizes: { servers: [3, 5], clients: [1, 2, 3, 4] },
    // Servers snapshot every 200 entries in every seed: drawing it (20–1,000, then 50–400)
    // made commit-previous-term and no-truncate-on-conflict slower to find (BENCHMARKS.md).
    workload: RAFT_CLIENT_PACE
  },
  faults: RAFT_SWARM_FAULTS,
  // Sync marks on (systems/raft/codec.ts): these disks rot. Plans kept from before it run
  // without, as they were recorded.
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  groups: raftGroups(5, 3, { snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 }),
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    leaderStepsDownWithoutQuorum(plan, DEFAULT_RAFT_OPTIONS),
    raftLivenessInvariant({
      settleStartUs: plan.durationUs,
      commitWithinUs: 3 * SECOND
    }),
    raftVotersCatchUp(),
    leaderStaysWhileHealthy(DEFAULT_RAFT_OPTIONS)
  ],
  sometimes: RAFT_SWARM_SOMETIMES,
  plan: (seed, base) => ({ ...base, script: membershipChurn(seed, base, "servers") })
});
function membershipChurn(seed, plan, group, raftGroup) {
  const stream = raftGroup !== void 0 ? `membership:raft:${raftGroup}` : group === "servers" ? "membership" : `membership:${group}`;
  const target = {
    group,
    tag: raftGroup === void 0 ? {} : { group: raftGroup }
  };
  const burst = membershipBurst(Random.fromSeed(seed).fork(`${stream}:burst`), plan, target);
  return [...removeAndAddBack(Random.fromSeed(seed).fork(stream), plan, target), ...burst];
}
function removeAndAddBack(random, plan, target) {
  if (!random.chance(0.5)) {
    return [];
  }
  const servers = Topology.of(plan).members(target.group);
  const node = servers[random.int(servers.length)];
  const halfUs = Math.floor(plan.durationUs / 2);
  const removeAtUs = random.between(Math.min(SECOND, Math.floor(halfUs / 2)), halfUs);
  const gapMinUs = Math.min(SECOND / 2, Math.floor(plan.durationUs / 8));
  const addAtUs = removeAtUs + random.between(gapMinUs, Math.max(gapMinUs, Math.min(3 * SECOND, halfUs - 1)));
  return [
    ...membershipRequest(servers, target, removeAtUs, "remove", node),
    ...membershipRequest(servers, target, addAtUs, "add", node)
  ];
}
function membershipRequest(servers, target, atUs, change, node) {
  return servers.map((server2) => ({
    atUs,
    kind: "inject",
    node: server2,
    message: { type: "membership", change, node, ...target.tag }
  }));
}
var BURST_CHANGES_MAX = 4;
var BURST_GAP_US_MAX = 2e4;
function membershipBurst(random, plan, target) {
  if (!random.chance(1 / 3)) {
    return [];
  }
  const servers = Topology.of(plan).members(target.group);
  const halfUs = Math.floor(plan.durationUs / 2);
  const anchors = plan.faults.filter(
    (fault) => (fault.kind === "pause" || fault.kind === "partition") && fault.atUs < halfUs
  ).map((fault) => fault.atUs);
  let atUs = anchors.length > 0 ? random.pick(anchors) + random.between(0, 5e4) : random.between(0, halfUs);
  const steps = [];
  const removed = /* @__PURE__ */ new Set();
  const changes = random.between(2, BURST_CHANGES_MAX);
  for (let change = 0; change < changes; change++) {
    const node = servers[random.int(servers.length)];
    const kind = removed.has(node) || random.chance(0.3) ? "add" : "remove";
    if (kind === "remove") {
      removed.add(node);
    }
    steps.push(...membershipRequest(servers, target, atUs, kind, node));
    atUs += random.between(0, BURST_GAP_US_MAX);
  }
  for (const node of [...removed].sort((a, b) => a - b)) {
    for (const afterUs of [SECOND, 2 * SECOND]) {
      steps.push(...membershipRequest(servers, target, atUs + afterUs, "add", node));
    }
  }
  return steps.filter((step) => step.atUs < plan.durationUs);
}

// sim/plan.ts
import { decode, encode } from "@msgpack/msgpack";

// sim/shape.ts
function shapeParameters(spec) {
  return [
    ...spec.durationUs === void 0 ? [] : ["durationUs"],
    ...Object.keys(spec.groupSizes ?? {}),
    ...Object.keys(spec.workload ?? {})
  ];
}
function pinProblem(spec, pins2) {
  const known = spec === void 0 ? [] : shapeParameters(spec);
  for (const [name, value] of Object.entries(pins2)) {
    if (!known.includes(name)) {
      return known.length === 0 ? `this scenario has a fixed shape, so there is nothing to set (${name} was given)` : `${name} is not drawn by this scenario; it draws ${known.join(", ")}`;
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      return `${name} must be a non-negative integer, not ${value}`;
    }
    const sizes = spec?.groupSizes?.[name];
    if (sizes !== void 0 && value < 1) {
      return `${name} is a group size and must be at least 1, not ${value}`;
    }
    if (name === "durationUs" && value < 1) {
      return "durationUs must be at least 1";
    }
  }
  return void 0;
}
function drawShape(spec, random, pins2 = {}) {
  const shape = { groupSizes: {}, workload: {} };
  if (spec.durationUs !== void 0) {
    const drawn = logUniform(random, spec.durationUs);
    shape.durationUs = pins2["durationUs"] ?? drawn;
  }
  for (const [group, sizes] of Object.entries(spec.groupSizes ?? {})) {
    assert(sizes.length > 0, "a drawn group size has at least one choice");
    const drawn = random.pick(sizes);
    shape.groupSizes[group] = pins2[group] ?? drawn;
  }
  for (const [name, range3] of Object.entries(spec.workload ?? {})) {
    const drawn = logUniform(random, range3);
    shape.workload[name] = pins2[name] ?? drawn;
  }
  return shape;
}
function logUniform(random, range3) {
  assert(Number.isSafeInteger(range3.min) && Number.isSafeInteger(range3.max), "integer ranges");
  assert(range3.min >= 1 && range3.min <= range3.max, "a log range is 1 <= min <= max");
  const low = Math.log(range3.min);
  const value = Math.round(Math.exp(low + random.next() * (Math.log(range3.max) - low)));
  const clamped = Math.min(range3.max, Math.max(range3.min, value));
  assert(clamped >= range3.min && clamped <= range3.max, "a log-uniform draw lies in its range");
  return clamped;
}
function planShape(spec, plan) {
  if (spec === void 0) {
    return void 0;
  }
  const shape = {};
  if (spec.durationUs !== void 0) {
    shape["durationUs"] = plan.durationUs;
  }
  for (const group of Object.keys(spec.groupSizes ?? {})) {
    shape[group] = plan.groups.find((planned) => planned.name === group)?.nodes.length ?? 0;
  }
  for (const name of Object.keys(spec.workload ?? {})) {
    const value = plan.workload[name];
    if (typeof value === "number") {
      shape[name] = value;
    }
  }
  return shape;
}
function parsePins(items) {
  const pins2 = {};
  for (const item of items) {
    const equals = item.indexOf("=");
    if (equals <= 0) {
      return `--set takes name=value (for example durationUs=2000000), not "${item}"`;
    }
    const name = item.slice(0, equals);
    const text = item.slice(equals + 1).replaceAll("_", "");
    const value = Number(text);
    if (text === "" || !Number.isSafeInteger(value)) {
      return `--set ${name} needs an integer value, not "${item.slice(equals + 1)}"`;
    }
    pins2[name] = value;
  }
  return pins2;
}

// sim/plan.ts
var MS = 1e3;
var CLOCK_DRIFT_PPM_MAX = 2e3;
function quietKnobs() {
  return {
    faultKinds: [],
    dropProbability: 0,
    duplicateProbability: 0,
    latencyMinUs: 500,
    latencyJitterMeanUs: 500,
    latencyTailProbability: 0,
    latencyTailMultiplier: 1,
    fsyncLatencyMinUs: 200,
    fsyncLatencyMaxUs: 2 * MS,
    tornWriteProbability: 0,
    readCorruptionProbability: 0,
    buggifyProbability: 0
  };
}
function planFor(scenario2, seed, variant = null, pins2 = {}) {
  assert(Number.isSafeInteger(seed) && seed >= 0, "a seed is a non-negative integer");
  assert(pinProblem(scenario2.shape, pins2) === void 0, "pins fit the scenario shape");
  const random = Random.fromSeed(seed).fork("plan");
  const kinds = chooseKinds(scenario2, random.fork("kinds"));
  const shape = scenario2.shape === void 0 ? void 0 : drawShape(scenario2.shape, random.fork("shape"), pins2);
  const groups3 = planGroups(scenario2, shape?.groupSizes);
  const durationUs = shape?.durationUs ?? scenario2.durationUs;
  const base = {
    format: PLAN_FORMAT,
    scenario: scenario2.name,
    variant,
    seed,
    groups: groups3,
    durationUs,
    settleUs: scenario2.settleUs,
    knobs: chooseKnobs(kinds, random.fork("knobs")),
    faults: chooseFaults(scenario2, new Topology(groups3), durationUs, kinds, random.fork("faults")),
    script: [],
    workload: { ...scenario2.workload, ...shape?.workload }
  };
  const plan = scenario2.plan ? scenario2.plan(seed, base) : base;
  plan.faults.sort((a, b) => a.atUs - b.atUs);
  plan.script.sort((a, b) => a.atUs - b.atUs);
  return validatePlan(plan);
}
function chooseKinds(scenario2, random) {
  const kinds = [];
  for (const kind of FAULT_KINDS) {
    const on = random.chance(0.5);
    if (scenario2.faults.eligible.includes(kind) && (on || !scenario2.faults.swarm)) {
      kinds.push(kind);
    }
  }
  return kinds;
}
function chooseKnobs(kinds, random) {
  const on = (kind) => kinds.includes(kind);
  const knobs = quietKnobs();
  knobs.faultKinds = kinds;
  knobs.latencyMinUs = random.between(100, 2 * MS);
  knobs.latencyJitterMeanUs = random.between(0, 3 * MS);
  knobs.fsyncLatencyMinUs = random.between(50, MS);
  knobs.fsyncLatencyMaxUs = knobs.fsyncLatencyMinUs + random.between(0, 5 * MS);
  knobs.dropProbability = on("drop") ? roundProbability(random.next() * 0.3) : 0;
  knobs.duplicateProbability = on("duplicate") ? roundProbability(random.next() * 0.3) : 0;
  if (on("latency-tail")) {
    knobs.latencyTailProbability = roundProbability(random.next() * 0.1);
    knobs.latencyTailMultiplier = random.between(5, 100);
  }
  knobs.tornWriteProbability = on("torn-write") ? roundProbability(0.5 + random.next() * 0.5) : 0;
  knobs.readCorruptionProbability = on("read-corruption") ? roundProbability(random.next() * 0.01) : 0;
  knobs.buggifyProbability = on("buggify") ? roundProbability(0.05 + random.next() * 0.25) : 0;
  const replay = random.fork("replay");
  knobs.replayProbability = on("duplicate") && replay.chance(0.5) ? roundProbability(replay.next() * 0.05) : 0;
  return knobs;
}
function roundProbability(value) {
  return Math.round(value * 1e4) / 1e4;
}
function chooseFaults(scenario2, topology, durationUs, kinds, random) {
  const faults5 = [];
  const episodesMax = scenario2.faults.episodesMax ?? 6;
  const mediaVictims = mediaFaultAtlas(topology, random.fork("media-atlas"));
  for (const kind of kinds) {
    const stream = random.fork(kind);
    const excluded = scenario2.faults.excludeGroups?.[kind] ?? [];
    const victims = topology.servers.filter(
      (node) => !excluded.includes(topology.groupOf(node)) && (!MEDIA_FAULT_KINDS.includes(kind) || mediaVictims.has(node))
    );
    const episodes = stream.between(1, episodesMax);
    for (let episode = 0; episode < episodes; episode++) {
      const atUs = stream.between(0, durationUs - 1);
      const lengthUs = stream.between(10 * MS, Math.max(10 * MS, Math.floor(durationUs / 4)));
      addEpisode(faults5, { kind, atUs, lengthUs, durationUs, topology, victims, random: stream });
    }
  }
  return faults5;
}
function mediaFaultAtlas(topology, random) {
  const victims = /* @__PURE__ */ new Set();
  for (const group of topology.serverGroups()) {
    const shuffled = random.shuffle([...group.members]);
    for (const node of shuffled.slice(0, Math.floor((shuffled.length - 1) / 2))) {
      victims.add(node);
    }
  }
  return victims;
}
function addEpisode(faults5, episode) {
  const { atUs, lengthUs, topology, victims, random } = episode;
  const endUs = atUs + lengthUs;
  if (episode.kind === "partition") {
    const classic = random.pick(CLASSIC_PARTITION_SHAPES);
    const flaps = random.chance(0.2) ? random.between(2, 6) : 1;
    const stepUs = Math.max(1, Math.floor(lengthUs / (2 * flaps)));
    const servers = [...topology.servers];
    const everyone = Array.from({ length: topology.size }, (_, node) => node);
    const links = partitionLinks(classic, servers, everyone, random);
    const aware = groupAwarePartition(classic, topology, random.fork(`shape@${atUs}`));
    for (let flap = 0; flap < flaps; flap++) {
      const startUs = atUs + 2 * flap * stepUs;
      faults5.push({ atUs: startUs, kind: "partition", shape: classic, links, ...aware });
      faults5.push({ atUs: startUs + stepUs, kind: "heal" });
    }
    return;
  }
  if (episode.kind === "crash" || episode.kind === "pause" || episode.kind === "clock") {
    if (victims.length === 0) {
      return;
    }
  }
  switch (episode.kind) {
    case "crash": {
      const node = random.pick(victims);
      faults5.push({ atUs, kind: "crash", node });
      faults5.push({ atUs: endUs, kind: "restart", node });
      addCrashLoop(faults5, node, endUs, episode.durationUs, random.fork(`loop@${atUs}`));
      return;
    }
    case "pause":
      faults5.push({ atUs, kind: "pause", node: random.pick(victims), durationUs: lengthUs });
      return;
    case "clock": {
      const node = random.pick(victims);
      if (random.chance(0.5)) {
        const deltaUs = random.between(-1e3 * MS, 1e3 * MS);
        faults5.push({ atUs, kind: "clock-jump", node, deltaUs });
      } else {
        faults5.push({
          atUs,
          kind: "clock-drift",
          node,
          driftPpm: random.between(-CLOCK_DRIFT_PPM_MAX, CLOCK_DRIFT_PPM_MAX)
        });
      }
      return;
    }
    case "latent-sector":
    case "fsync-error":
    case "bit-rot":
    case "misdirected-write":
      if (victims.length > 0) {
        faults5.push({ atUs, kind: episode.kind, node: random.pick(victims) });
      }
      return;
    default:
      return;
  }
}
var CRASH_LOOP_PROBABILITY = 0.25;
var CRASH_LOOP_REPEATS_MAX = 3;
function addCrashLoop(faults5, node, restartUs, durationUs, random) {
  if (!random.chance(CRASH_LOOP_PROBABILITY)) {
    return;
  }
  const repeats = random.between(1, CRASH_LOOP_REPEATS_MAX);
  let upUs = restartUs;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const crashUs = upUs + logUniform(random, { min: 10, max: 100 * MS });
    if (crashUs >= durationUs) {
      return;
    }
    upUs = crashUs + random.between(MS, 200 * MS);
    faults5.push({ atUs: crashUs, kind: "crash", node });
    faults5.push({ atUs: upUs, kind: "restart", node });
  }
}
function groupAwarePartition(classic, topology, random) {
  const serverGroups3 = topology.serverGroups();
  const several = topology.groups.filter((group) => group.members.length > 0).length > 2;
  if (!several) {
    if (classic === "isolate" && random.chance(0.5)) {
      const node = random.pick([...topology.servers]);
      return { shape: "isolate-node", links: isolateNodeLinks(node, topology.size) };
    }
    return {};
  }
  if (random.chance(0.4)) {
    return {};
  }
  const choice = random.int(3);
  if (choice === 0) {
    const node = random.pick([...topology.servers]);
    return {
      shape: "isolate-node",
      links: isolateNodeLinks(node, topology.size),
      groups: [topology.groupOf(node)]
    };
  }
  const splittable = serverGroups3.filter((group) => group.members.length >= 2);
  if (choice === 1 && splittable.length > 0) {
    const group = random.pick(splittable);
    const shuffled = random.shuffle([...group.members]);
    const minority = Math.max(1, Math.floor((shuffled.length - 1) / 2));
    return {
      shape: "split-group",
      links: cutBetween(shuffled.slice(0, minority), shuffled.slice(minority)),
      groups: [group.name]
    };
  }
  const first = random.pick(serverGroups3);
  const others = topology.groups.filter(
    (group) => group.name !== first.name && group.members.length > 0
  );
  const second = random.pick(others);
  return {
    shape: "cut-groups",
    links: cutBetween([...first.members], [...second.members]),
    groups: [first.name, second.name]
  };
}
function isolateNodeLinks(node, size) {
  const others = Array.from({ length: size }, (_, other) => other).filter((o) => o !== node);
  return cutBetween([node], others);
}
function cutBetween(sideA, sideB) {
  const links = [];
  for (const a of sideA) {
    for (const b of sideB) {
      links.push([a, b], [b, a]);
    }
  }
  return links;
}
function partitionLinks(shape, servers, everyone, random) {
  const shuffled = random.shuffle(servers);
  const groups3 = serverGroups2(shape, shuffled, random);
  const clients = everyone.filter((node) => !servers.includes(node));
  for (const client of clients) {
    random.pick(groups3).push(client);
  }
  if (shape === "ring") {
    return ringLinks(shuffled);
  }
  const links = [];
  const sideOf = /* @__PURE__ */ new Map();
  for (const [index, group] of groups3.entries()) {
    for (const node of group) {
      sideOf.set(node, [...sideOf.get(node) ?? [], index]);
    }
  }
  for (const from2 of everyone) {
    for (const to of everyone) {
      const fromSides = sideOf.get(from2) ?? [];
      const toSides = sideOf.get(to) ?? [];
      const shareSide = fromSides.some((side) => toSides.includes(side));
      const oneWayAllowed = shape === "one-way" && fromSides.includes(1) && toSides.includes(0);
      if (from2 !== to && !shareSide && !oneWayAllowed) {
        links.push([from2, to]);
      }
    }
  }
  return links;
}
function serverGroups2(shape, shuffled, random) {
  const count2 = shuffled.length;
  switch (shape) {
    case "isolate":
    case "isolate-node":
      return [shuffled.slice(0, 1), shuffled.slice(1)];
    case "majority-minority":
    case "split-group":
    case "one-way": {
      const minority = Math.max(1, Math.floor((count2 - 1) / 2));
      return [shuffled.slice(0, minority), shuffled.slice(minority)];
    }
    case "bridge": {
      const half = Math.floor((count2 - 1) / 2);
      const bridge = shuffled[count2 - 1];
      return [
        [...shuffled.slice(0, half), bridge],
        [...shuffled.slice(half, count2 - 1), bridge]
      ];
    }
    case "ring":
      return [shuffled.slice()];
    case "groups":
    case "cut-groups": {
      const groupCount = random.between(2, Math.max(2, Math.min(count2, 4)));
      const groups3 = Array.from({ length: groupCount }, () => []);
      shuffled.forEach((node, index) => {
        groups3[index % groupCount].push(node);
      });
      return groups3;
    }
  }
}
function ringLinks(ring) {
  const links = [];
  const count2 = ring.length;
  if (count2 <= 3) {
    return links;
  }
  for (let index = 0; index < count2; index++) {
    for (let other = 0; other < count2; other++) {
      const distance = Math.min(Math.abs(index - other), count2 - Math.abs(index - other));
      if (distance > 1) {
        links.push([ring[index], ring[other]]);
      }
    }
  }
  return links;
}
var PlanError = class extends Error {
  name = "PlanError";
};
function fail2(path, expected, value) {
  throw new PlanError(`invalid plan: ${path} should be ${expected}, got ${describe(value)}`);
}
function describe(value) {
  if (value === void 0) {
    return "nothing";
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
function record(value, path) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail2(path, "an object", value);
  }
  return value;
}
function integer(value, path, min = 0, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    fail2(path, `an integer in [${min}, ${max}]`, value);
  }
  return value;
}
function probability(value, path) {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    fail2(path, "a probability in [0, 1]", value);
  }
  return value;
}
function list(value, path) {
  if (!Array.isArray(value)) {
    fail2(path, "a list", value);
  }
  return value;
}
function migratePlan(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return value;
  }
  const plan = value;
  if (plan["format"] !== 1) {
    return value;
  }
  const nodes = integer(plan["nodes"], "plan.nodes", 1, NODES_MAX);
  const clients = integer(plan["clients"], "plan.clients", 0, NODES_MAX);
  const { nodes: _nodes, clients: _clients, ...rest } = plan;
  const groups3 = [
    { name: "servers", client: false, nodes: nodeNames("n", nodes) },
    { name: "clients", client: true, nodes: nodeNames("c", clients) }
  ];
  return { ...rest, format: PLAN_FORMAT, groups: groups3 };
}
function validatePlan(input) {
  const value = migratePlan(input);
  const plan = record(value, "plan");
  if (plan["format"] !== PLAN_FORMAT) {
    fail2("plan.format", `${PLAN_FORMAT} (or 1, which is migrated)`, plan["format"]);
  }
  if (typeof plan["scenario"] !== "string" || plan["scenario"].length === 0) {
    fail2("plan.scenario", "a scenario name", plan["scenario"]);
  }
  if (plan["variant"] !== null && typeof plan["variant"] !== "string") {
    fail2("plan.variant", "a variant name or null", plan["variant"]);
  }
  integer(plan["seed"], "plan.seed");
  const total = validateGroups(plan["groups"], "plan.groups");
  const durationUs = integer(plan["durationUs"], "plan.durationUs", 1);
  integer(plan["settleUs"], "plan.settleUs");
  validateKnobs(plan["knobs"], "plan.knobs");
  list(plan["faults"], "plan.faults").forEach((fault, index) => {
    validateFault(fault, `plan.faults[${index}]`, total, durationUs);
  });
  list(plan["script"], "plan.script").forEach((step, index) => {
    validateStep(step, `plan.script[${index}]`, total);
  });
  const workload = record(plan["workload"], "plan.workload");
  for (const [key2, item] of Object.entries(workload)) {
    if (!["number", "string", "boolean"].includes(typeof item)) {
      fail2(`plan.workload.${key2}`, "a number, string or boolean", item);
    }
  }
  return value;
}
function validateGroups(value, path) {
  const groupNames = /* @__PURE__ */ new Set();
  const nodeNames2 = /* @__PURE__ */ new Set();
  list(value, path).forEach((item, index) => {
    const group = record(item, `${path}[${index}]`);
    const name = group["name"];
    if (typeof name !== "string" || name.length === 0 || groupNames.has(name)) {
      fail2(`${path}[${index}].name`, "a group name used once", name);
    }
    groupNames.add(name);
    if (typeof group["client"] !== "boolean") {
      fail2(`${path}[${index}].client`, "true or false", group["client"]);
    }
    list(group["nodes"], `${path}[${index}].nodes`).forEach((node, at2) => {
      if (typeof node !== "string" || node.length === 0 || nodeNames2.has(node)) {
        fail2(`${path}[${index}].nodes[${at2}]`, "a node name used once", node);
      }
      nodeNames2.add(node);
    });
  });
  if (nodeNames2.size === 0 || nodeNames2.size > NODES_MAX) {
    fail2(path, `groups of 1 to ${NODES_MAX} nodes in all`, nodeNames2.size);
  }
  return nodeNames2.size;
}
function validateKnobs(value, path) {
  const knobs = record(value, path);
  list(knobs["faultKinds"], `${path}.faultKinds`).forEach((kind, index) => {
    if (!FAULT_KINDS.includes(kind)) {
      fail2(`${path}.faultKinds[${index}]`, `one of ${FAULT_KINDS.join(", ")}`, kind);
    }
  });
  for (const key2 of PROBABILITY_KNOBS) {
    probability(knobs[key2], `${path}.${key2}`);
  }
  for (const key2 of OPTIONAL_PROBABILITY_KNOBS) {
    if (knobs[key2] !== void 0) {
      probability(knobs[key2], `${path}.${key2}`);
    }
  }
  integer(knobs["latencyMinUs"], `${path}.latencyMinUs`);
  integer(knobs["latencyJitterMeanUs"], `${path}.latencyJitterMeanUs`);
  integer(knobs["latencyTailMultiplier"], `${path}.latencyTailMultiplier`, 1, 1e4);
  const fsyncMin = integer(knobs["fsyncLatencyMinUs"], `${path}.fsyncLatencyMinUs`);
  integer(knobs["fsyncLatencyMaxUs"], `${path}.fsyncLatencyMaxUs`, fsyncMin);
}
var NODE_FAULTS = ["crash", "restart", "pause", "clock-jump", "clock-drift"];
var DISK_FAULTS = ["latent-sector", "fsync-error", "bit-rot", "misdirected-write"];
function validateFault(value, path, total, durationUs) {
  const fault = record(value, path);
  integer(fault["atUs"], `${path}.atUs`, 0, durationUs * 100);
  const kind = fault["kind"];
  if (kind === "heal") {
    return;
  }
  if (kind === "partition") {
    if (!PARTITION_SHAPES.includes(fault["shape"])) {
      fail2(`${path}.shape`, `one of ${PARTITION_SHAPES.join(", ")}`, fault["shape"]);
    }
    if (fault["groups"] !== void 0) {
      list(fault["groups"], `${path}.groups`).forEach((group, index) => {
        if (typeof group !== "string") {
          fail2(`${path}.groups[${index}]`, "a group name", group);
        }
      });
    }
    list(fault["links"], `${path}.links`).forEach((link, index) => {
      const pair = list(link, `${path}.links[${index}]`);
      if (pair.length !== 2) {
        fail2(`${path}.links[${index}]`, "a [from, to] pair", link);
      }
      integer(pair[0], `${path}.links[${index}][0]`, 0, total - 1);
      integer(pair[1], `${path}.links[${index}][1]`, 0, total - 1);
    });
    return;
  }
  if (typeof kind !== "string" || ![...NODE_FAULTS, ...DISK_FAULTS].includes(kind)) {
    fail2(`${path}.kind`, "a fault kind", kind);
  }
  integer(fault["node"], `${path}.node`, 0, total - 1);
  if (kind === "pause") {
    integer(fault["durationUs"], `${path}.durationUs`, 1);
  }
  if (kind === "clock-jump") {
    integer(fault["deltaUs"], `${path}.deltaUs`, -36e8, 36e8);
  }
  if (kind === "clock-drift") {
    integer(fault["driftPpm"], `${path}.driftPpm`, -1e5, 1e5);
  }
}
function validateStep(value, path, total) {
  const step = record(value, path);
  integer(step["atUs"], `${path}.atUs`);
  if (step["kind"] === "inject") {
    integer(step["node"], `${path}.node`, 0, total - 1);
    const message = record(step["message"], `${path}.message`);
    if (typeof message["type"] !== "string") {
      fail2(`${path}.message.type`, "a message type", message["type"]);
    }
    return;
  }
  if (step["kind"] === "check") {
    if (typeof step["check"] !== "string") {
      fail2(`${path}.check`, "a check name", step["check"]);
    }
    return;
  }
  fail2(`${path}.kind`, '"inject" or "check"', step["kind"]);
}

// scenarios/scripted.ts
var MS2 = 1e3;
function exactlyTimedPlan(base, faults5, script5) {
  return {
    ...base,
    knobs: {
      ...base.knobs,
      latencyMinUs: MS2,
      latencyJitterMeanUs: 0,
      fsyncLatencyMinUs: MS2,
      fsyncLatencyMaxUs: MS2
    },
    faults: faults5.map((fault) => ({ ...fault })),
    script: script5.map((step) => ({ ...step }))
  };
}

// scenarios/raft-figure8.ts
var MS3 = 1e3;
var [N1, N2, N3, N4, N5] = [0, 1, 2, 3, 4];
var faults = [
  { atUs: 100 * MS3, kind: "partition", shape: "groups", links: cutBetween([N1, N2], [N3, N4, N5]) },
  { atUs: 200 * MS3, kind: "crash", node: N1 },
  { atUs: 205 * MS3, kind: "heal" },
  // After n5's vote requests arrive (212 ms), before its first append leaves (215 ms).
  {
    atUs: 212500,
    kind: "partition",
    shape: "one-way",
    links: [N1, N2, N3, N4].map((to) => [N5, to])
  },
  { atUs: 300 * MS3, kind: "restart", node: N1 }
];
var script = [
  { atUs: 10 * MS3, kind: "inject", node: N1, message: { type: "campaign" } },
  { atUs: 90 * MS3, kind: "check", check: "n1 leads and index 1 is everywhere" },
  {
    atUs: 110 * MS3,
    kind: "inject",
    node: N1,
    message: { type: "propose", id: "figure-8", data: encodeCommand("figure-8") }
  },
  { atUs: 190 * MS3, kind: "check", check: "index 2 is on n1 and n2 only" },
  { atUs: 210 * MS3, kind: "inject", node: N5, message: { type: "campaign" } },
  { atUs: 290 * MS3, kind: "check", check: "n5 leads term 2 with its index 2 alone" },
  // The first campaign fails (n3 and n4 voted for n5 in term 2); the second wins term 3.
  { atUs: 310 * MS3, kind: "inject", node: N1, message: { type: "campaign" } },
  { atUs: 340 * MS3, kind: "inject", node: N1, message: { type: "campaign" } },
  { atUs: 600 * MS3, kind: "check", check: "n1 leads term 3 and index 2 holds its entry" }
];
function describeLog(view, node) {
  const state = serverState(view, node);
  if (state === void 0) {
    return `${view.name(node)} down`;
  }
  const terms = [];
  for (let index = 1; index <= state.lastIndex; index++) {
    terms.push(state.termAt(index) ?? -1);
  }
  return `${view.name(node)} ${state.role} term ${state.term} log terms [${terms.join(",")}]`;
}
function expectLogs(view, expected, what) {
  for (const [node, terms] of expected.entries()) {
    const state = serverState(view, node);
    const actual = state === void 0 ? null : Array.from({ length: state.lastIndex }, (_, index) => state.termAt(index + 1));
    if (JSON.stringify(actual) !== JSON.stringify(terms)) {
      const logs = expected.map((_, other) => describeLog(view, other)).join("; ");
      return `the script did not force Figure 8 (${what}): ${logs}`;
    }
  }
  return void 0;
}
registerScenario({
  name: "raft-figure8",
  description: "Forces the Figure 8 interleaving of the Raft paper; a leader that commits an earlier-term entry by counting replicas is caught.",
  system: "raft",
  durationUs: 1e3 * MS3,
  settleUs: 2e3 * MS3,
  faults: { eligible: [], swarm: false },
  workload: {},
  variants: RAFT_VARIANTS,
  // Long election timeouts: only the script starts elections. One entry per append and no
  // pre-vote, as in the paper's story.
  groups: raftGroups(5, 0, {
    electionTicks: 150,
    preVote: false,
    checkQuorum: false,
    maxEntriesPerAppend: 1,
    maxInflightAppends: 1
  }),
  invariants: () => raftSafetyInvariants(),
  checks: {
    "n1 leads and index 1 is everywhere": (view) => serverState(view, N1)?.role === "leader" ? expectLogs(view, [[1], [1], [1], [1], [1]], "step 1") : `the script did not force Figure 8 (step 1): ${describeLog(view, N1)}`,
    "index 2 is on n1 and n2 only": (view) => expectLogs(view, [[1, 1], [1, 1], [1], [1], [1]], "step 2"),
    "n5 leads term 2 with its index 2 alone": (view) => serverState(view, N5)?.role === "leader" ? expectLogs(view, [null, [1, 1], [1], [1], [1, 2]], "step 3") : `the script did not force Figure 8 (step 3): ${describeLog(view, N5)}`,
    "n1 leads term 3 and index 2 holds its entry": (view) => {
      const leader = serverState(view, N1);
      if (leader?.role !== "leader" || leader.term !== 3) {
        return `the script did not force Figure 8 (step 4): ${describeLog(view, N1)}`;
      }
      return [N2, N3, N4].every((node) => serverState(view, node)?.termAt(2) === 1) ? void 0 : `after step 4 index 2 should hold n1's term-1 entry on n2, n3 and n4: ${[N2, N3, N4].map((node) => describeLog(view, node)).join("; ")}`;
    }
  },
  plan: (_seed, base) => exactlyTimedPlan(base, faults, script)
});

// scenarios/raft-script.ts
var MS4 = 1e3;
var [N12, N22, N32] = [0, 1, 2];
var N1_LEADS_AND_COMMITS = "n1 leads term 1 and index 2 is committed everywhere";
var N1_ELECTED_AND_COMMITTED = [
  { atUs: 10 * MS4, kind: "inject", node: N12, message: { type: "campaign" } },
  {
    atUs: 50 * MS4,
    kind: "inject",
    node: N12,
    message: { type: "propose", id: "a", data: encodeCommand("a") }
  },
  { atUs: 90 * MS4, kind: "check", check: N1_LEADS_AND_COMMITS }
];
function describe2(view, node) {
  const state = serverState(view, node);
  return state === void 0 ? `${view.name(node)} down` : `${view.name(node)} ${state.role} of term ${state.term}, leader ${state.leader === null ? "unknown" : view.name(state.leader)}, commit ${state.commitIndex}`;
}
function describeServers(view) {
  return [N12, N22, N32].map((node) => describe2(view, node)).join("; ");
}
function notForced(what) {
  return (view, step) => `the script did not force ${what} (${step}): ${describeServers(view)}`;
}
function n1Leads(view) {
  const n1 = serverState(view, N12);
  return n1?.role === "leader" && n1.term === 1;
}
function n1LeadsAndCommits(fail3) {
  return (view) => n1Leads(view) && [N12, N22, N32].every((node) => serverState(view, node)?.commitIndex === 2) ? void 0 : fail3(view, "step 1");
}

// scenarios/raft-lease-restart.ts
var MS5 = 1e3;
var faults2 = [
  { atUs: 100 * MS5, kind: "partition", shape: "isolate", links: cutBetween([N12], [N22, N32]) },
  { atUs: 100 * MS5, kind: "crash", node: N22 },
  { atUs: 150 * MS5, kind: "restart", node: N22 }
];
var script2 = [
  ...N1_ELECTED_AND_COMMITTED,
  { atUs: 170 * MS5, kind: "check", check: "n2 restarted knowing no leader; n1 still leads" },
  { atUs: 200 * MS5, kind: "inject", node: N32, message: { type: "campaign" } },
  {
    atUs: 300 * MS5,
    kind: "inject",
    node: N32,
    message: { type: "propose", id: "b", data: encodeCommand("b") }
  },
  { atUs: 400 * MS5, kind: "inject", node: N12, message: { type: "read", id: "stale?" } },
  { atUs: 500 * MS5, kind: "check", check: "n1 still leads term 1" }
];
var notForced2 = notForced("the stale lease read");
var checks = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced2),
  "n2 restarted knowing no leader; n1 still leads": (view) => {
    const n2 = serverState(view, N22);
    return n1Leads(view) && n2?.term === 1 && n2.leader === null ? void 0 : notForced2(view, "step 3");
  },
  "n1 still leads term 1": (view) => n1Leads(view) ? void 0 : notForced2(view, "step 4")
};
registerScenario({
  name: "raft-lease-restart",
  description: "Forces a lease read across a follower restart: a server that votes as soon as it boots lets a new leader commit while the old one still answers reads under its lease.",
  system: "raft",
  durationUs: 600 * MS5,
  settleUs: 2e3 * MS5,
  faults: { eligible: [], swarm: false },
  workload: {},
  variants: LEASE_VARIANTS,
  groups: raftGroups(3, 0, { electionTicks: 150, readMode: "lease" }),
  invariants: () => raftSafetyInvariants(),
  sometimes: raftLeaseSometimes,
  checks,
  plan: (_seed, base) => exactlyTimedPlan(base, faults2, script2)
});

// scenarios/raft-lease-drift.ts
var MS6 = 1e3;
var DRIFT_PPM = 5e4;
var faults3 = [
  { atUs: 0, kind: "clock-drift", node: N12, driftPpm: -DRIFT_PPM },
  { atUs: 0, kind: "clock-drift", node: N22, driftPpm: DRIFT_PPM },
  { atUs: 0, kind: "clock-drift", node: N32, driftPpm: DRIFT_PPM },
  { atUs: 100 * MS6, kind: "partition", shape: "isolate", links: cutBetween([N12], [N22, N32]) }
];
var campaigns = [1530, 1545, 1560].map((atMs) => ({
  atUs: atMs * MS6,
  kind: "inject",
  node: N32,
  message: { type: "campaign" }
}));
var script3 = [
  ...N1_ELECTED_AND_COMMITTED.slice(0, 2),
  { atUs: 70 * MS6, kind: "inject", node: N12, message: { type: "read", id: "under-lease" } },
  ...N1_ELECTED_AND_COMMITTED.slice(2),
  ...campaigns,
  {
    atUs: 1580 * MS6,
    kind: "inject",
    node: N32,
    message: { type: "propose", id: "b", data: encodeCommand("b") }
  },
  { atUs: 1600 * MS6, kind: "check", check: "n3 leads and has committed b; n1 still leads term 1" },
  { atUs: 1610 * MS6, kind: "inject", node: N12, message: { type: "read", id: "stale?" } }
];
var notForced3 = notForced("a read at the lease's drift bound");
var checks2 = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced3),
  "n3 leads and has committed b; n1 still leads term 1": (view) => {
    const n3 = serverState(view, N32);
    return n1Leads(view) && n3?.role === "leader" && n3.commitIndex >= 4 ? void 0 : notForced3(view, "step 3");
  }
};
registerScenario({
  name: "raft-lease-drift",
  description: "Forces a lease read at the clock-drift bound the lease assumes (leader 5 % slow, followers 5 % fast): a lease not shortened for drift outlives the followers\u2019 vote refusal and answers a stale read.",
  system: "raft",
  durationUs: 1700 * MS6,
  settleUs: 2e3 * MS6,
  faults: { eligible: [], swarm: false },
  workload: {},
  variants: LEASE_VARIANTS,
  groups: raftGroups(3, 0, {
    electionTicks: 150,
    readMode: "lease",
    leaseDriftPpmMax: DRIFT_PPM
  }),
  invariants: () => raftSafetyInvariants(),
  sometimes: raftLeaseSometimes,
  checks: checks2,
  plan: (_seed, base) => exactlyTimedPlan(base, faults3, script3)
});

// scenarios/raft-prevote-rejoin.ts
var MS7 = 1e3;
var faults4 = [
  { atUs: 100 * MS7, kind: "partition", shape: "isolate", links: cutBetween([N32], [N12, N22]) },
  { atUs: 500 * MS7, kind: "heal" }
];
var campaign = (atMs) => ({
  atUs: atMs * MS7,
  kind: "inject",
  node: N32,
  message: { type: "campaign" }
});
var ISOLATED_PRE_VOTE = "n3 pre-voted alone and is still at term 1; n1 still leads";
var REJOINED = "n3 follows n1 again";
var LEADER_KEPT = "n1 still leads term 1 and every server is at term 1";
var script4 = [
  ...N1_ELECTED_AND_COMMITTED,
  campaign(300),
  { atUs: 400 * MS7, kind: "check", check: ISOLATED_PRE_VOTE },
  // Healed at 500 ms; n1's next heartbeat reaches n3 within 20 ms.
  campaign(501),
  { atUs: 580 * MS7, kind: "check", check: REJOINED },
  campaign(600),
  { atUs: 900 * MS7, kind: "check", check: LEADER_KEPT }
];
var notForced4 = notForced("a rejoining follower\u2019s pre-vote");
function leaderKept(view) {
  const terms = [N12, N22, N32].map((node) => serverState(view, node)?.term);
  return n1Leads(view) && terms.every((term) => term === 1) ? void 0 : `a follower rejoining after a partition deposed a healthy leader: ${describeServers(view)}`;
}
var checks3 = {
  [N1_LEADS_AND_COMMITS]: n1LeadsAndCommits(notForced4),
  [ISOLATED_PRE_VOTE]: (view) => {
    const n3 = serverState(view, N32);
    if (n3 !== void 0 && n3.term > 1) {
      return `n3, cut off from everyone, raised its term to ${n3.term}: it campaigned without a pre-vote, and the term it brings back will depose the leader (${describeServers(view)})`;
    }
    return n1Leads(view) && n3?.role === "pre-candidate" ? void 0 : notForced4(view, "step 2");
  },
  [REJOINED]: (view) => {
    const n3 = serverState(view, N32);
    return leaderKept(view) ?? (n3?.role === "follower" && n3.leader === N12 ? void 0 : notForced4(view, "step 3"));
  },
  [LEADER_KEPT]: leaderKept
};
registerScenario({
  name: "raft-prevote-rejoin",
  description: "Forces a follower back from a partition to campaign while the leader is healthy: with pre-vote and check-quorum the leader must keep its term.",
  system: "raft",
  durationUs: 1e3 * MS7,
  settleUs: 2e3 * MS7,
  faults: { eligible: [], swarm: false },
  workload: {},
  variants: RAFT_VARIANTS,
  groups: raftGroups(3, 0, { electionTicks: 150 }),
  invariants: () => raftSafetyInvariants(),
  checks: checks3,
  plan: (_seed, base) => exactlyTimedPlan(base, faults4, script4)
});

// scenarios/raft-mit-dsl.ts
var MS8 = 1e3;
var ELECTION_TIMEOUT_MS = 1e3;
var MIT_RAFT_OPTIONS = {
  tickUs: 10 * MS8,
  electionTicks: 30,
  heartbeatTicks: 10,
  preVote: false,
  checkQuorum: false
};
var SNAPSHOT_INTERVAL = 10;
var POLLS = 10;
var POLL_MS = 500;
var LEAD_MS = 300;
var ATTEMPT_MS_RELIABLE = 1e3;
var ATTEMPT_MS_UNRELIABLE = 2e3;
var ATTEMPTS_UNRELIABLE = 3;
var STEPS_MAX = 1e5;
function networkKnobs(network) {
  const knobs = quietKnobs();
  if (network === "reliable") {
    return knobs;
  }
  knobs.faultKinds = ["drop", "latency-tail"];
  knobs.dropProbability = 0.1;
  knobs.latencyMinUs = 200;
  knobs.latencyJitterMeanUs = 13 * MS8;
  knobs.latencyTailProbability = network === "long-reordering" ? 0.1 : 0.01;
  knobs.latencyTailMultiplier = network === "long-reordering" ? 40 : 20;
  return knobs;
}
function unreliableKnobs(knobs) {
  return {
    ...knobs,
    faultKinds: ["drop", "latency-tail"],
    dropProbability: 0.1,
    latencyJitterMeanUs: 5 * MS8,
    latencyTailProbability: 0.02,
    latencyTailMultiplier: 20
  };
}
function nodeName(node) {
  return `n${node + 1}`;
}
function nodeIds(names) {
  return names.trim().split(/\s+/).map((name) => {
    const match = /^n(\d+)$/.exec(name);
    assert(match !== null, `"${name}" is not a server name`);
    return Number(match[1]) - 1;
  });
}
function baseId(command) {
  return command.split(/[~:]/, 1)[0];
}
function appliedIds(view, node) {
  if (serverState(view, node) === void 0) {
    return void 0;
  }
  const machine = view.inspect(node).stateMachine;
  assert(machine instanceof CommandLog, "the MIT scenarios replicate a CommandLog");
  return machine.commands.map(baseId);
}
function runningServers(view) {
  const running = [];
  for (const node of view.servers) {
    if (serverState(view, node) !== void 0) {
      running.push(node);
    }
  }
  return running;
}
function describeRoles(view, nodes) {
  return nodes.map((node) => {
    const state = serverState(view, node);
    return state === void 0 ? `${nodeName(node)} down` : `${nodeName(node)} ${state.role} term ${state.term}`;
  }).join(", ");
}
function leadersAmong(view, nodes) {
  return nodes.filter((node) => serverState(view, node)?.role === "leader");
}
var runState = /* @__PURE__ */ new WeakMap();
function stateOf(view) {
  let state = runState.get(view);
  if (state === void 0) {
    state = /* @__PURE__ */ new Map();
    runState.set(view, state);
  }
  return state;
}
function polled(wait, poll, polls, condition) {
  return (view) => {
    const state = stateOf(view);
    const key2 = `wait ${wait}`;
    if (state.has(key2)) {
      return void 0;
    }
    const verdict = condition(view);
    if (verdict === void 0) {
      state.set(key2, poll);
      return void 0;
    }
    return poll >= polls ? verdict : void 0;
  };
}
function oneLeader(nodes) {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    const terms = new Set(leaders.map((node) => serverState(view, node)?.term));
    if (leaders.length === 0 || terms.size !== leaders.length) {
      const found = leaders.length === 0 ? "no leader" : "two leaders in one term";
      return `${found} among the connected servers (${describeRoles(view, nodes)})`;
    }
    return void 0;
  };
}
function leads(node, nodes) {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    if (leaders.length === 1 && leaders[0] === node) {
      return void 0;
    }
    return `${nodeName(node)} campaigned as the only caught-up candidate but does not lead alone: ${describeRoles(view, nodes)}`;
  };
}
function noLeader(nodes) {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    return leaders.length === 0 ? void 0 : `without a quorum no connected server may lead, but ${leaders.map(nodeName).join(", ")} does (${describeRoles(view, nodes)})`;
  };
}
function termsAgree(nodes) {
  return (view) => {
    const terms = new Set(nodes.map((node) => serverState(view, node)?.term));
    const term = [...terms][0] ?? 0;
    return terms.size === 1 && term >= 1 ? void 0 : `the connected servers should agree on a term of at least 1: ${describeRoles(view, nodes)}`;
  };
}
function committedOn(id, atLeast) {
  return (view) => {
    const holders = runningServers(view).filter((node) => appliedIds(view, node)?.includes(id));
    return holders.length >= atLeast ? void 0 : `${id} was applied by ${holders.length} servers (${holders.map(nodeName).join(", ") || "none"}), not at least ${atLeast}`;
  };
}
function committedNowhere(id) {
  return (view) => {
    const holders = runningServers(view).filter((node) => appliedIds(view, node)?.includes(id));
    return holders.length === 0 ? void 0 : `${id} committed without a majority: ${holders.map(nodeName).join(", ")} applied it`;
  };
}
function appliedExactly(pattern) {
  const source = pattern.map((token) => token.endsWith("?") ? `(?:${token.slice(0, -1)} )?` : `${token} `).join("");
  const expected = new RegExp(`^${source}$`);
  return (view) => {
    for (const node of runningServers(view)) {
      const ids2 = appliedIds(view, node) ?? [];
      const text = ids2.map((id) => `${id} `).join("");
      if (!expected.test(text)) {
        return `${nodeName(node)} applied [${ids2.join(" ")}], expected [${pattern.join(" ")}]`;
      }
    }
    return void 0;
  };
}
function appliedInOrder(first, second) {
  return (view) => {
    for (const node of runningServers(view)) {
      const ids2 = appliedIds(view, node) ?? [];
      const a = ids2.indexOf(first);
      const b = ids2.indexOf(second);
      if (a < 0 || b <= a) {
        return `${nodeName(node)} should have applied ${first} and then ${second} (state must not regress across restarts), but holds them at positions ${a + 1} and ${b + 1} of ${ids2.length}`;
      }
    }
    return void 0;
  };
}
function traffic(view) {
  assert(
    view.messagesSent !== void 0 && view.bytesSent !== void 0,
    "message budgets need a view that counts traffic"
  );
  return { messages: view.messagesSent, bytes: view.bytesSent };
}
function mark(name) {
  return (view) => {
    const state = stateOf(view);
    const { messages, bytes } = traffic(view);
    state.set(`messages ${name}`, messages);
    state.set(`bytes ${name}`, bytes);
    return void 0;
  };
}
function sinceMark(bound, limit, what, name) {
  return (view) => {
    const base = stateOf(view).get(`${what} ${name}`);
    assert(base !== void 0, `the script checks ${what} since mark ${name} before setting it`);
    const used2 = traffic(view)[what === "messages" ? "messages" : "bytes"] - base;
    const ok = bound === "most" ? used2 <= limit : used2 >= limit;
    return ok ? void 0 : `${used2} ${what} since ${name}, expected at ${bound} ${limit}`;
  };
}
function logUnder(limit) {
  return (view) => {
    assert(view.fileSize !== void 0, "a state-size bound needs a view that reads file sizes");
    for (const node of view.servers) {
      const size = view.fileSize(node, LOG_FILE2);
      if (size >= limit) {
        return `${nodeName(node)}'s ${LOG_FILE2} holds ${size} bytes, not under ${limit}: the log is not trimmed after snapshots`;
      }
    }
    return void 0;
  };
}
var CHECK_GRAMMAR = [
  [
    /^one leader among ([n\d ]+) \(wait (\d+), poll (\d+)\/(\d+)\)$/,
    ([, nodes, wait, poll, polls]) => polled(wait, Number(poll), Number(polls), oneLeader(nodeIds(nodes)))
  ],
  [
    /^(n\d+) leads among ([n\d ]+)$/,
    ([, node, nodes]) => leads(nodeIds(node)[0], nodeIds(nodes))
  ],
  [/^no leader among ([n\d ]+)$/, ([, nodes]) => noLeader(nodeIds(nodes))],
  [/^terms agree among ([n\d ]+)$/, ([, nodes]) => termsAgree(nodeIds(nodes))],
  [
    /^(\S+) committed on at least (\d+) \(wait (\d+), poll (\d+)\/(\d+)\)$/,
    ([, id, atLeast, wait, poll, polls]) => polled(
      wait,
      Number(poll),
      Number(polls),
      committedOn(id, Number(atLeast))
    )
  ],
  [/^(\S+) committed nowhere$/, ([, id]) => committedNowhere(id)],
  [
    /^applied exactly \[([^\]]*)\] on every running server$/,
    ([, ids2]) => appliedExactly(ids2.split(" ").filter((id) => id.length > 0))
  ],
  [
    /^(\S+) then (\S+) on every running server$/,
    ([, first, second]) => appliedInOrder(first, second)
  ],
  [/^mark (\S+)$/, ([, name]) => mark(name)],
  [
    /^at (most|least) (\d+) (messages|bytes) since (\S+)$/,
    ([, bound, limit, what, name]) => sinceMark(bound, Number(limit), what, name)
  ],
  [/^raft\.log under (\d+) bytes on every server$/, ([, limit]) => logUnder(Number(limit))]
];
var resolved = /* @__PURE__ */ new Map();
function resolveCheck(name) {
  const known = resolved.get(name);
  if (known !== void 0) {
    return known;
  }
  for (const [pattern, make] of CHECK_GRAMMAR) {
    const match = pattern.exec(name);
    if (match !== null) {
      const check = make([...match]);
      resolved.set(name, check);
      return check;
    }
  }
  return void 0;
}
var MIT_CHECKS = new Proxy({}, {
  get: (_target, name) => typeof name === "string" ? resolveCheck(name) : void 0
});
var encoder2 = new TextEncoder();
var MitScript = class {
  /** Virtual time of the next action, µs. */
  t = 0;
  faults = [];
  script = [];
  random;
  servers;
  disconnected = /* @__PURE__ */ new Set();
  down = /* @__PURE__ */ new Set();
  attempts;
  attemptUs;
  /** Set when the topology changed since a leader was last seen. */
  unsettled = true;
  waits = 0;
  lastCheckUs = -1;
  settleAtUs;
  /** On an unreliable network a forced campaign may lose, so lead() does not check it. */
  checkLeads;
  constructor(seed, servers, network) {
    this.random = Random.fromSeed(seed).fork("mit");
    this.servers = servers;
    const reliable = network === "reliable";
    this.attempts = reliable ? 1 : ATTEMPTS_UNRELIABLE;
    this.checkLeads = reliable;
    this.attemptUs = (reliable ? ATTEMPT_MS_RELIABLE : ATTEMPT_MS_UNRELIABLE) * MS8;
  }
  // --- who is where ---
  all() {
    return Array.from({ length: this.servers }, (_, node) => node);
  }
  /** MIT's cfg.connected: up and not disconnected. */
  connected() {
    return this.all().filter((node) => !this.disconnected.has(node) && !this.down.has(node));
  }
  isUp(node) {
    return !this.down.has(node);
  }
  isConnected(node) {
    return !this.disconnected.has(node) && !this.down.has(node);
  }
  upCount() {
    return this.servers - this.down.size;
  }
  /** (node + k) % servers, as the Go tests write it. */
  plus(node, k) {
    return (node + k) % this.servers;
  }
  pick(nodes) {
    return this.random.pick(nodes);
  }
  sleep(ms4) {
    assert(ms4 >= 0, "sleep forward only");
    this.t += Math.round(ms4 * MS8);
  }
  step(step) {
    assert(this.script.length < STEPS_MAX, "the script is too long");
    this.script.push(step);
  }
  check(name, atUs = this.t) {
    assert(resolveCheck(name) !== void 0, `no check rule matches "${name}"`);
    this.step({ atUs, kind: "check", check: name });
    this.lastCheckUs = Math.max(this.lastCheckUs, atUs);
  }
  /**
   * Now, for a fault. The simulator runs a plan's faults before its script steps at the same
   * instant, so a fault at the instant of a check would change what the check sees: the fault
   * moves just after the check, as in the Go test where the check returned first.
   */
  faultUs() {
    if (this.t <= this.lastCheckUs) {
      this.t = this.lastCheckUs + 1;
    }
    return this.t;
  }
  // --- faults ---
  disconnect(...nodes) {
    for (const node of nodes) {
      this.disconnected.add(node);
    }
    this.cut();
  }
  connect(...nodes) {
    for (const node of nodes) {
      this.disconnected.delete(node);
    }
    this.cut();
  }
  /** Replaces the partition: every link between a disconnected server and another is cut. */
  cut() {
    assert(this.settleAtUs === void 0, "no faults after settle()");
    this.unsettled = true;
    const atUs = this.faultUs();
    if (this.disconnected.size === 0) {
      this.faults.push({ atUs, kind: "heal" });
      return;
    }
    const links = [];
    for (const node of [...this.disconnected].sort((a, b) => a - b)) {
      for (const other of this.all()) {
        if (other !== node) {
          links.push([node, other], [other, node]);
        }
      }
    }
    const shape = this.disconnected.size === 1 ? "isolate" : "groups";
    this.faults.push({ atUs, kind: "partition", shape, links });
  }
  /** MIT's crash1: disconnect, then kill; the disk keeps what was fsynced. */
  crash(node) {
    assert(this.settleAtUs === void 0, "no faults after settle()");
    this.disconnect(node);
    if (!this.down.has(node)) {
      this.down.add(node);
      this.faults.push({ atUs: this.faultUs(), kind: "crash", node });
    }
  }
  /** MIT's start1: crash if running, then boot from the disk; still disconnected. */
  start1(node) {
    this.crash(node);
    this.down.delete(node);
    this.faults.push({ atUs: this.faultUs(), kind: "restart", node });
  }
  // --- client side ---
  /** rf.Start(cmd) on one server, whatever its connectivity: a follower ignores it. */
  start(node, id, padToBytes = 0) {
    assert(!/[~:\s]/.test(id), `command id ${id} must not contain ~, : or spaces`);
    this.propose(node, id, padToBytes);
  }
  /** Injects one proposal; `copy` may carry a retry suffix ("c7~2"). */
  propose(node, copy, padToBytes) {
    const id = copy;
    if (this.down.has(node)) {
      return;
    }
    const text = padToBytes > id.length ? `${id}:`.padEnd(padToBytes, ".") : id;
    this.step({
      atUs: this.t,
      kind: "inject",
      node,
      message: { type: "propose", id, data: encoder2.encode(text) }
    });
  }
  // --- MIT's checks ---
  /** checkOneLeader: polls the connected servers for up to POLLS × POLL_MS. */
  awaitLeader() {
    const wait = ++this.waits;
    const among = this.connected().map(nodeName).join(" ");
    for (let poll = 1; poll <= POLLS; poll++) {
      this.check(
        `one leader among ${among} (wait ${wait}, poll ${poll}/${POLLS})`,
        this.t + poll * POLL_MS * MS8
      );
    }
    this.t += POLLS * POLL_MS * MS8;
    this.unsettled = false;
  }
  /** leader := checkOneLeader(), made deterministic: `node` campaigns and must then lead. */
  lead(node) {
    assert(this.isConnected(node), `${nodeName(node)} must be connected to lead`);
    if (this.unsettled) {
      this.awaitLeader();
    }
    this.campaign(node);
    this.sleep(LEAD_MS);
    if (this.checkLeads) {
      this.check(`${nodeName(node)} leads among ${this.connected().map(nodeName).join(" ")}`);
    }
    return node;
  }
  /** "Campaign now" without a check: on an unreliable network the campaign may lose. */
  campaign(node) {
    if (this.isUp(node)) {
      this.step({ atUs: this.t, kind: "inject", node, message: { type: "campaign" } });
    }
  }
  checkNoLeader() {
    this.check(`no leader among ${this.connected().map(nodeName).join(" ")}`);
  }
  checkTerms() {
    this.check(`terms agree among ${this.connected().map(nodeName).join(" ")}`);
  }
  checkCommittedNowhere(id) {
    this.check(`${id} committed nowhere`);
  }
  checkApplied(pattern) {
    this.check(`applied exactly [${pattern.join(" ")}] on every running server`);
  }
  /**
   * cfg.one(cmd, n, retry): Start on every connected server (followers ignore it); at least n
   * servers apply it. Waits for a leader first if the topology changed; on an unreliable
   * network retries with fresh copies.
   */
  one(id, atLeast, padToBytes = 0) {
    if (this.unsettled) {
      this.awaitLeader();
    }
    this.t = this.oneAt(id, atLeast, this.t, padToBytes);
  }
  /** one() started at `startUs` without moving the script on; returns when it is judged. */
  oneAt(id, atLeast, startUs, padToBytes = 0) {
    const wait = ++this.waits;
    const saved2 = this.t;
    let endUs = startUs;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      assert(!/[~:\s]/.test(id), `command id ${id} must not contain ~, : or spaces`);
      const copy = attempt === 1 ? id : `${id}~${attempt}`;
      this.t = startUs + (attempt - 1) * this.attemptUs;
      for (const node of this.connected()) {
        this.propose(node, copy, padToBytes);
      }
      endUs = this.t + this.attemptUs;
      this.check(
        `${id} committed on at least ${atLeast} (wait ${wait}, poll ${attempt}/${this.attempts})`,
        endUs
      );
    }
    this.t = saved2;
    return endUs;
  }
  /** Several one() calls in a row (MIT waits for each; here they are `spacingMs` apart). */
  oneSeries(ids2, atLeast, spacingMs = 50) {
    if (this.unsettled) {
      this.awaitLeader();
    }
    let endUs = this.t;
    for (const [index, id] of ids2.entries()) {
      endUs = this.oneAt(id, atLeast, this.t + index * spacingMs * MS8);
    }
    this.t = endUs;
  }
  /** cfg.wait(index, n): a command proposed earlier is applied by at least n servers. */
  expectCommitted(id, atLeast) {
    const wait = ++this.waits;
    this.check(`${id} committed on at least ${atLeast} (wait ${wait}, poll 1/1)`);
  }
  /**
   * Ends the fault phase here: the simulator heals the network, calms it (no more drops or
   * delays: MIT's setunreliable(false)) and restarts every crashed server.
   */
  settle() {
    assert(this.settleAtUs === void 0, "settle once");
    this.settleAtUs = this.t;
    this.disconnected.clear();
    this.down.clear();
    this.unsettled = true;
  }
  mark(name) {
    this.check(`mark ${name}`);
  }
  /** Faults stop here: at settle(), else just after the last step. */
  durationUs() {
    return this.settleAtUs ?? this.t + 100 * MS8;
  }
  /** Builds the plan: the base plan with this script, these faults and the network's knobs. */
  plan(base, knobs, settleMinUs) {
    const used2 = new Set(knobs.faultKinds);
    if (this.faults.some((fault) => fault.kind === "partition")) {
      used2.add("partition");
    }
    if (this.faults.some((fault) => fault.kind === "crash")) {
      used2.add("crash");
    }
    const endUs = this.t + 100 * MS8;
    const durationUs = this.durationUs();
    return {
      ...base,
      durationUs,
      settleUs: Math.max(settleMinUs, endUs - durationUs),
      knobs: { ...knobs, faultKinds: [...used2] },
      faults: this.faults,
      script: this.script
    };
  }
};
function ids(prefix, count2, from2 = 1) {
  return Array.from({ length: count2 }, (_, index) => `${prefix}${from2 + index}`);
}

// scenarios/raft-mit.ts
var SECOND2 = 1e6;
function registerMit(test) {
  const network = test.network ?? "reliable";
  const build = (seed) => {
    const script5 = new MitScript(seed, test.servers, network);
    test.build(script5);
    return script5;
  };
  const nominal = build(0);
  const crashes = nominal.faults.some((fault) => fault.kind === "crash");
  const eligible = ["partition"];
  if (crashes) {
    eligible.push("crash");
  }
  if (network !== "reliable") {
    eligible.push("drop", "latency-tail");
  }
  const sometimes = {};
  for (const name of test.sometimes ?? []) {
    sometimes[name] = raftSometimes[name];
  }
  const snapshotOptions = test.snapshots ? { snapshotEveryEntries: SNAPSHOT_INTERVAL, logRewriteBytes: 1024 } : {};
  registerScenario({
    name: test.name,
    description: test.description,
    system: "raft",
    durationUs: nominal.durationUs(),
    settleUs: SECOND2,
    faults: { eligible, swarm: false },
    workload: {},
    variants: RAFT_VARIANTS,
    groups: raftGroups(test.servers, test.clients ?? 0, {
      ...MIT_RAFT_OPTIONS,
      ...snapshotOptions
    }),
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...test.liveness ? [
        raftLivenessInvariant({
          settleStartUs: plan.durationUs,
          commitWithinUs: 3 * SECOND2
        })
      ] : []
    ],
    sometimes,
    checks: MIT_CHECKS,
    plan: (seed, base) => build(seed).plan(base, networkKnobs(network), SECOND2)
  });
}
registerMit({
  name: "raft-3a-initial-election",
  description: "MIT TestInitialElection3A: 3 servers, no faults; a leader is elected, terms agree (\u2265 1) and a leader remains.",
  servers: 3,
  build(s) {
    s.awaitLeader();
    s.sleep(50);
    s.checkTerms();
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkTerms();
    s.awaitLeader();
  }
});
registerMit({
  name: "raft-3a-re-election",
  description: "MIT TestReElection3A: the leader is cut off, rejoins, then a leader and one more leave; a new leader each time, none without a quorum.",
  servers: 3,
  build(s) {
    s.awaitLeader();
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.awaitLeader();
    s.connect(leader1);
    s.awaitLeader();
    const leader2 = s.lead(s.pick(s.all()));
    s.disconnect(leader2, s.plus(leader2, 1));
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkNoLeader();
    s.connect(s.plus(leader2, 1));
    s.awaitLeader();
    s.connect(leader2);
    s.awaitLeader();
  }
});
registerMit({
  name: "raft-3a-many-elections",
  description: "MIT TestManyElections3A: 7 servers, 9 rounds of cutting off 3 random servers; one leader among the rest every round.",
  servers: 7,
  build(s) {
    s.awaitLeader();
    for (let round = 1; round < 10; round++) {
      const cut = [s.pick(s.all()), s.pick(s.all()), s.pick(s.all())];
      s.disconnect(...cut);
      s.awaitLeader();
      s.connect(...cut);
    }
    s.awaitLeader();
  }
});
registerMit({
  name: "raft-3b-basic-agree",
  description: "MIT TestBasicAgree3B: 3 servers, 3 commands; nothing applies before it is proposed, each lands next in order on every server.",
  servers: 3,
  build(s) {
    const commands = ["c100", "c200", "c300"];
    for (const [index, id] of commands.entries()) {
      s.checkApplied(commands.slice(0, index));
      s.one(id, 3);
    }
    s.checkApplied(commands);
  }
});
registerMit({
  name: "raft-3b-rpc-bytes",
  description: "MIT TestRPCBytes3B: 10 commands of 5 KB; bytes sent stay within servers \xD7 payload + 50 KB, so each entry goes to each peer about once.",
  servers: 3,
  build(s) {
    s.one("c99", 3);
    s.mark("payload");
    const big = ids("b", 10);
    for (const id of big) {
      s.one(id, 3, 5e3);
    }
    s.check(`at most ${3 * 10 * 5e3 + 5e4} bytes since payload`);
    s.checkApplied(["c99", ...big]);
  }
});
registerMit({
  name: "raft-3b-follower-failure",
  description: "MIT TestFollowerFailure3B: followers are cut off one at a time; two servers still agree, and a command proposed with no majority never commits.",
  servers: 3,
  build(s) {
    s.one("c101", 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader1, 1));
    s.one("c102", 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one("c103", 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(s.plus(leader2, 1), s.plus(leader2, 2));
    s.start(leader2, "c104");
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere("c104");
  }
});
registerMit({
  name: "raft-3b-leader-failure",
  description: "MIT TestLeaderFailure3B: successive leaders are cut off; the remaining pair elects and commits, and with no majority nothing commits.",
  servers: 3,
  build(s) {
    s.one("c101", 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.one("c102", 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one("c103", 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(leader2);
    for (const node of s.all()) {
      s.start(node, "c104");
    }
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere("c104");
  }
});
registerMit({
  name: "raft-3b-fail-agree",
  description: "MIT TestFailAgree3B: a follower misses 4 commits while cut off, rejoins and catches up; all 3 agree on new commands.",
  servers: 3,
  build(s) {
    s.one("c101", 3);
    const leader = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader, 1));
    s.one("c102", 2);
    s.one("c103", 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one("c104", 2);
    s.one("c105", 2);
    s.connect(s.plus(leader, 1));
    s.one("c106", 3);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one("c107", 3);
  }
});
registerMit({
  name: "raft-3b-fail-no-agree",
  description: "MIT TestFailNoAgree3B: 5 servers, 3 followers cut off; the leader\u2019s command does not commit, and after healing the next command lands right after it or in its place.",
  servers: 5,
  build(s) {
    s.one("c10", 5);
    const leader = s.lead(s.pick(s.all()));
    const followers = [1, 2, 3].map((k) => s.plus(leader, k));
    s.disconnect(...followers);
    s.start(leader, "c20");
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere("c20");
    s.connect(...followers);
    const leader2 = s.lead(s.pick(s.all()));
    s.start(leader2, "c30");
    s.one("c1000", 5);
    s.checkApplied(["c10", "c20?", "c30", "c1000"]);
  }
});
registerMit({
  name: "raft-3b-concurrent-starts",
  description: "MIT TestConcurrentStarts3B: 5 commands proposed at once to one leader in one term; all 5 commit on every server.",
  servers: 3,
  build(s) {
    const leader = s.lead(s.pick(s.all()));
    s.start(leader, "c1");
    const concurrent2 = ids("c10", 5, 0);
    for (const id of concurrent2) {
      s.start(leader, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS);
    for (const id of concurrent2) {
      s.expectCommitted(id, 3);
    }
    s.checkTerms();
  }
});
registerMit({
  name: "raft-3b-rejoin",
  description: "MIT TestRejoin3B: a cut-off leader takes 3 commands that cannot commit; after a new leader commits and is cut off, the old one rejoins and its entries are overwritten.",
  servers: 3,
  build(s) {
    s.one("c101", 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    for (const id of ["c102", "c103", "c104"]) {
      s.start(leader1, id);
    }
    s.one("c103b", 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(leader2);
    s.connect(leader1);
    s.one("c104b", 2);
    s.connect(leader2);
    s.one("c105", 3);
    for (const id of ["c102", "c103", "c104"]) {
      s.checkCommittedNowhere(id);
    }
  }
});
registerMit({
  name: "raft-3b-backup",
  description: "MIT TestBackup3B: 5 servers; two minorities each take 50 uncommittable entries while majorities commit 50; leaders back up quickly over long divergent logs (at most 128 kB to repair them).",
  servers: 5,
  build(s) {
    s.one("x0", 5);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader1, 2), s.plus(leader1, 3), s.plus(leader1, 4));
    for (const id of ids("a", 50)) {
      s.start(leader1, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS / 2);
    s.disconnect(leader1, s.plus(leader1, 1));
    s.connect(s.plus(leader1, 2), s.plus(leader1, 3), s.plus(leader1, 4));
    s.oneSeries(ids("b", 50), 3);
    const leader2 = s.lead(s.pick(s.connected()));
    let other = s.plus(leader1, 2);
    if (leader2 === other) {
      other = s.plus(leader2, 1);
    }
    s.disconnect(other);
    for (const id of ids("c", 50)) {
      s.start(leader2, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS / 2);
    s.disconnect(...s.all());
    s.connect(leader1, s.plus(leader1, 1), other);
    s.mark("repair");
    s.oneSeries(ids("d", 50), 3);
    s.connect(...s.all());
    s.one("e", 5);
    s.check("at most 128000 bytes since repair");
    s.checkCommittedNowhere("a1");
    s.checkCommittedNowhere("c1");
  }
});
registerMit({
  name: "raft-3b-count",
  description: "MIT TestCount3B: message budgets (an RPC is a request and its reply): electing \u2264 30 RPCs, 12 entries \u2264 42, 1 s idle \u2264 60.",
  servers: 3,
  build(s) {
    s.mark("start");
    s.sleep(ELECTION_TIMEOUT_MS);
    s.check(`at most ${2 * 30} messages since start`);
    s.check("at least 2 messages since start");
    const leader = s.lead(s.pick(s.all()));
    s.mark("entries");
    const commands = ids("c", 12);
    for (const id of commands) {
      s.start(leader, id);
    }
    s.sleep(300);
    for (const id of commands) {
      s.expectCommitted(id, 3);
    }
    s.checkTerms();
    s.check(`at most ${2 * (10 + 1 + 3) * 3} messages since entries`);
    s.mark("idle");
    s.sleep(ELECTION_TIMEOUT_MS);
    s.check(`at most ${2 * 3 * 20} messages since idle`);
  }
});
registerMit({
  name: "raft-3c-persist1",
  description: "MIT TestPersist13C: every server restarts, then the leader, then a follower during commits; commits continue, so term, vote and log were persisted.",
  servers: 3,
  build(s) {
    s.one("c11", 3);
    for (const node of s.all()) {
      s.start1(node);
    }
    s.connect(...s.all());
    s.one("c12", 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.start1(leader1);
    s.connect(leader1);
    s.one("c13", 3);
    const leader2 = s.lead(s.pick(s.all()));
    s.disconnect(leader2);
    s.one("c14", 2);
    s.start1(leader2);
    s.connect(leader2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.expectCommitted("c14", 3);
    const i3 = s.plus(s.lead(s.pick(s.all())), 1);
    s.disconnect(i3);
    s.one("c15", 2);
    s.start1(i3);
    s.connect(i3);
    s.one("c16", 3);
  }
});
registerMit({
  name: "raft-3c-persist2",
  description: "MIT TestPersist23C: 5 servers, 5 rounds of cutting off and restarting shifting subsets; 3 live servers keep committing and all 5 agree at the end.",
  servers: 5,
  build(s) {
    let index = 1;
    const next = () => `c${10 + index++}`;
    for (let round = 0; round < 5; round++) {
      s.one(next(), 5);
      const leader1 = s.lead(s.pick(s.all()));
      const at2 = (k) => s.plus(leader1, k);
      s.disconnect(at2(1), at2(2));
      s.one(next(), 3);
      s.disconnect(at2(0), at2(3), at2(4));
      s.start1(at2(1));
      s.start1(at2(2));
      s.connect(at2(1), at2(2));
      s.sleep(ELECTION_TIMEOUT_MS);
      s.start1(at2(3));
      s.connect(at2(3));
      s.one(next(), 3);
      s.connect(at2(4), at2(0));
    }
    s.one("c1000", 5);
  }
});
registerMit({
  name: "raft-3c-persist3",
  description: "MIT TestPersist33C: a follower is cut off, then the leader and the other follower crash; the cut-off one rejoins and the leader restarts; 2 then 3 agree.",
  servers: 3,
  build(s) {
    s.one("c101", 3);
    const leader = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader, 2));
    s.one("c102", 2);
    s.crash(leader);
    s.crash(s.plus(leader, 1));
    s.connect(s.plus(leader, 2));
    s.start1(leader);
    s.connect(leader);
    s.one("c103", 2);
    s.start1(s.plus(leader, 1));
    s.connect(s.plus(leader, 1));
    s.one("c104", 3);
  }
});
function figure8Rounds(s, rounds, fail3) {
  let command = 0;
  for (let round = 0; round < rounds; round++) {
    const leader = s.pick(s.connected());
    s.campaign(leader);
    s.sleep(10 + s.random.int(6));
    for (const node of s.all()) {
      s.start(node, `f${++command}`);
    }
    s.sleep(s.random.chance(0.1) ? s.random.int(ELECTION_TIMEOUT_MS / 2) : s.random.int(13));
    fail3(leader);
  }
}
registerMit({
  name: "raft-3c-figure8",
  description: "MIT TestFigure83C: 5 servers; leaders crash a few ms after taking a command, random servers restart to keep 3 up; no apply disagreement, and all 5 agree at the end.",
  servers: 5,
  sometimes: ["a leader was deposed"],
  build(s) {
    s.one("f0", 1);
    figure8Rounds(s, 100, (leader) => {
      s.crash(leader);
      if (s.upCount() < 3) {
        const node = s.pick(s.all());
        if (!s.isUp(node)) {
          s.start1(node);
          s.connect(node);
        }
      }
    });
    for (const node of s.all()) {
      if (!s.isUp(node)) {
        s.start1(node);
        s.connect(node);
      }
    }
    s.one("f-final", 5);
  }
});
registerMit({
  name: "raft-3c-unreliable-agree",
  description: "MIT TestUnreliableAgree3C: 5 servers on an unreliable network, 49 rounds of 5 concurrent commands; everything commits, and all 5 agree once the network is reliable.",
  servers: 5,
  network: "unreliable",
  build(s) {
    s.awaitLeader();
    let endUs = s.t;
    for (let round = 1; round < 50; round++) {
      for (let j = 0; j < 4; j++) {
        endUs = Math.max(endUs, s.oneAt(`c${100 * round + j}`, 1, s.t));
      }
      endUs = Math.max(endUs, s.oneAt(`c${round}`, 1, s.t));
      s.sleep(100);
    }
    s.t = Math.max(s.t, endUs);
    s.settle();
    s.one("c-final", 5);
  }
});
registerMit({
  name: "raft-3c-figure8-unreliable",
  description: "MIT TestFigure8Unreliable3C: as Figure 8, on an unreliable network with long reordering, and leaders are cut off (half the time) instead of crashed.",
  servers: 5,
  network: "long-reordering",
  sometimes: ["a leader was deposed"],
  build(s) {
    s.one("f0", 1);
    figure8Rounds(s, 150, (leader) => {
      if (s.random.chance(0.5)) {
        s.disconnect(leader);
      }
      if (s.connected().length < 3) {
        const node = s.pick(s.all());
        if (!s.isConnected(node)) {
          s.connect(node);
        }
      }
    });
    s.settle();
    s.one("f-final", 5);
  }
});
function churn(s) {
  for (let round = 0; round < 20; round++) {
    if (s.random.chance(0.2)) {
      s.disconnect(s.pick(s.all()));
    }
    if (s.random.chance(0.5)) {
      const node = s.pick(s.all());
      if (!s.isUp(node)) {
        s.start1(node);
      }
      s.connect(node);
    }
    if (s.random.chance(0.2)) {
      const node = s.pick(s.all());
      if (s.isUp(node)) {
        s.crash(node);
      }
    }
    s.sleep(ELECTION_TIMEOUT_MS * 7 / 10);
  }
  s.sleep(ELECTION_TIMEOUT_MS);
  s.settle();
  s.sleep(ELECTION_TIMEOUT_MS);
  s.one("final", 5);
}
registerMit({
  name: "raft-3c-reliable-churn",
  description: "MIT TestReliableChurn3C: 3 clients propose while servers are cut off, crash and restart at random for 20 rounds; no value a client saw committed is lost.",
  servers: 5,
  clients: 3,
  liveness: true,
  sometimes: ["a leader was deposed"],
  build: churn
});
registerMit({
  name: "raft-3c-unreliable-churn",
  description: "MIT TestUnreliableChurn3C: the churn test on an unreliable network; no value a client saw committed is lost.",
  servers: 5,
  clients: 3,
  network: "unreliable",
  liveness: true,
  sometimes: ["a leader was deposed"],
  build: churn
});
var MAX_LOG_SIZE = 2e3;
function snapcommon(disconnect, crash) {
  return (s) => {
    let command = 0;
    const next = () => `s${++command}`;
    s.one(next(), 3);
    let leader1 = s.lead(s.pick(s.all()));
    for (let round = 0; round < 30; round++) {
      let victim = s.plus(leader1, 1);
      let sender = leader1;
      if (round % 3 === 1) {
        sender = s.plus(leader1, 1);
        victim = leader1;
      }
      if (disconnect) {
        s.disconnect(victim);
        s.one(next(), 2);
      }
      if (crash) {
        s.crash(victim);
        s.one(next(), 2);
      }
      const count2 = SNAPSHOT_INTERVAL / 2 + s.random.int(SNAPSHOT_INTERVAL);
      for (let index = 0; index < count2; index++) {
        s.start(sender, next());
      }
      s.one(next(), disconnect || crash ? 2 : 3);
      s.check(`raft.log under ${MAX_LOG_SIZE} bytes on every server`);
      if (disconnect) {
        s.connect(victim);
        s.one(next(), 3);
        leader1 = s.lead(s.pick(s.all()));
      }
      if (crash) {
        s.start1(victim);
        s.connect(victim);
        s.one(next(), 3);
        leader1 = s.lead(s.pick(s.all()));
      }
    }
  };
}
registerMit({
  name: "raft-3d-snapshot-basic",
  description: "MIT TestSnapshotBasic3D: 3 servers snapshot every 10 applies over 30 rounds; the persisted log stays under 2000 bytes.",
  servers: 3,
  snapshots: true,
  build: snapcommon(false, false)
});
registerMit({
  name: "raft-3d-snapshot-install",
  description: "MIT TestSnapshotInstall3D: snapcommon with a victim cut off each round; it catches up through InstallSnapshot.",
  servers: 3,
  snapshots: true,
  sometimes: ["a snapshot was installed"],
  build: snapcommon(true, false)
});
registerMit({
  name: "raft-3d-snapshot-install-unreliable",
  description: "MIT TestSnapshotInstallUnreliable3D: snapshot install with a cut-off victim on an unreliable network.",
  servers: 3,
  network: "unreliable",
  snapshots: true,
  sometimes: ["a snapshot was installed"],
  build: snapcommon(true, false)
});
registerMit({
  name: "raft-3d-snapshot-install-crash",
  description: "MIT TestSnapshotInstallCrash3D: the victim crashes each round and restarts from snapshot plus log tail, then catches up.",
  servers: 3,
  snapshots: true,
  sometimes: ["a snapshot was installed"],
  build: snapcommon(false, true)
});
registerMit({
  name: "raft-3d-snapshot-install-unreliable-crash",
  description: "MIT TestSnapshotInstallUnCrash3D: the crashing victim on an unreliable network.",
  servers: 3,
  network: "unreliable",
  snapshots: true,
  sometimes: ["a snapshot was installed"],
  build: snapcommon(false, true)
});
registerMit({
  name: "raft-3d-snapshot-all-crash",
  description: "MIT TestSnapshotAllCrash3D: all 3 servers crash and restart 5 times; the next command lands after the last, so state never regresses.",
  servers: 3,
  snapshots: true,
  build(s) {
    let command = 0;
    const next = () => `s${++command}`;
    s.one(next(), 3);
    for (let round = 0; round < 5; round++) {
      const count2 = SNAPSHOT_INTERVAL / 2 + s.random.int(SNAPSHOT_INTERVAL);
      s.oneSeries(
        Array.from({ length: count2 }, () => next()),
        3
      );
      const before2 = next();
      s.one(before2, 3);
      for (const node of s.all()) {
        s.crash(node);
      }
      for (const node of s.all()) {
        s.start1(node);
        s.connect(node);
      }
      const after = next();
      s.one(after, 3);
      s.check(`${before2} then ${after} on every running server`);
    }
  }
});
registerMit({
  name: "raft-3d-snapshot-init",
  description: "MIT TestSnapshotInit3D: snapshot, crash all, one command, crash all, one command; persisting after a restart keeps the snapshot.",
  servers: 3,
  snapshots: true,
  build(s) {
    const commands = ids("s", SNAPSHOT_INTERVAL + 2);
    s.one(commands[0], 3);
    s.oneSeries(commands.slice(1), 3);
    const crashAll = () => {
      for (const node of s.all()) {
        s.crash(node);
      }
      for (const node of s.all()) {
        s.start1(node);
        s.connect(node);
      }
    };
    crashAll();
    s.one("t1", 3);
    crashAll();
    s.one("t2", 3);
    s.checkApplied([...commands, "t1", "t2"]);
  }
});

// systems/kv/contract.ts
function kvServerState(view, node) {
  const inspected = view.inspect(node);
  return inspected?.kv === void 0 ? void 0 : inspected;
}
function kvClientObservation(record2) {
  const type = record2.observation.type;
  return type === "kv-acked" || type === "kv-read" ? record2.observation : void 0;
}
function sharedKey(index) {
  return `s${index}`;
}
function isSharedKey(key2) {
  return /^s\d+$/.test(key2);
}

// invariants/linearizability/memo.ts
var INITIAL_SLOTS = 1 << 10;
var INITIAL_ARENA_WORDS = 1 << 12;
var HEADER_WORDS = 2;
var MemoSet = class {
  equal;
  maxBytes;
  slots;
  // entry index + 1; 0 = empty
  hashes;
  offsets;
  // where each entry starts in the arena
  arena;
  arenaUsed = 0;
  states = [];
  count = 0;
  /** Entries forgotten to stay within the budget, over the memo's life. */
  evicted = 0;
  constructor(equal, maxBytes) {
    assert(maxBytes > 0, "a memo budget is positive");
    this.equal = equal;
    this.maxBytes = maxBytes;
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.hashes = new Int32Array(INITIAL_SLOTS / 2);
    this.offsets = new Int32Array(INITIAL_SLOTS / 2);
    this.arena = new Uint32Array(INITIAL_ARENA_WORDS);
  }
  get size() {
    return this.count;
  }
  /** Bytes in use: the entries' words, each entry's hash, offset and state reference, the table. */
  get bytes() {
    return this.arenaUsed * 4 + this.count * 16 + this.slots.length * 4;
  }
  /** Adds (bits, state) under `hash`; false when an equal or subsuming pair is present. */
  addIfAbsent(hash, view, state) {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let probes = 0; probes <= mask; probes++) {
      const stored = this.slots[slot];
      if (stored === 0) {
        this.insertAt(slot, hash, view, state);
        return true;
      }
      if (this.matches(stored - 1, hash, view, state)) {
        return false;
      }
      slot = slot + 1 & mask;
    }
    assert(false, "memo table full: the load factor bound was broken");
  }
  matches(entry, hash, view, state) {
    if (this.hashes[entry] !== hash) {
      return false;
    }
    const { arena } = this;
    let at2 = this.offsets[entry];
    const { bits, fullWords, topWord, openWord } = view;
    if (arena[at2] !== fullWords || arena[at2 + 1] !== topWord - fullWords) {
      return false;
    }
    at2 += HEADER_WORDS;
    for (let w = fullWords; w < topWord; w++, at2++) {
      if (arena[at2] !== bits[w]) {
        return false;
      }
    }
    for (let w = openWord; w < bits.length; w++, at2++) {
      if ((arena[at2] & ~bits[w]) !== 0) {
        return false;
      }
    }
    return this.equal(this.states[entry], state);
  }
  insertAt(slot, hash, view, state) {
    const { bits, fullWords, topWord, openWord } = view;
    const words = HEADER_WORDS + (topWord - fullWords) + (bits.length - openWord);
    if (this.bytes + words * 4 > this.maxBytes && this.count > 1) {
      this.forgetHalf();
      this.addIfAbsent(hash, view, state);
      return;
    }
    const entry = this.count;
    if (entry === this.hashes.length) {
      this.growEntries();
    }
    if (this.arenaUsed + words > this.arena.length) {
      this.growArena(this.arenaUsed + words);
    }
    const { arena } = this;
    let at2 = this.arenaUsed;
    this.offsets[entry] = at2;
    arena[at2++] = fullWords;
    arena[at2++] = topWord - fullWords;
    for (let w = fullWords; w < topWord; w++) {
      arena[at2++] = bits[w];
    }
    for (let w = openWord; w < bits.length; w++) {
      arena[at2++] = bits[w];
    }
    this.arenaUsed = at2;
    this.hashes[entry] = hash;
    this.states.push(state);
    this.slots[slot] = entry + 1;
    this.count = entry + 1;
    if (this.count * 2 > this.slots.length) {
      this.rebuildSlots(this.slots.length * 2);
    }
  }
  growEntries() {
    const capacity = this.hashes.length * 2;
    const hashes2 = new Int32Array(capacity);
    hashes2.set(this.hashes);
    this.hashes = hashes2;
    const offsets = new Int32Array(capacity);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }
  growArena(needed) {
    let capacity = Math.min(this.arena.length * 2, Math.ceil(this.maxBytes / 4));
    while (capacity < needed) {
      capacity *= 2;
    }
    const arena = new Uint32Array(capacity);
    arena.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = arena;
  }
  /**
   * Forgets the newer half of the entries. Which half to keep is a heuristic (forgetting any
   * entry only repeats work): on Porcupine's hard etcd histories keeping the older half, the
   * configurations near the root of the search, finished where keeping the newer half did not.
   */
  forgetHalf() {
    const keep = this.count >>> 1;
    this.arenaUsed = this.offsets[keep];
    this.states.length = keep;
    this.evicted += this.count - keep;
    this.count = keep;
    this.rebuildSlots(this.slots.length);
  }
  rebuildSlots(size) {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.hashes[entry] & mask;
      for (let probes = 0; probes <= mask && slots[slot] !== 0; probes++) {
        slot = slot + 1 & mask;
      }
      assert(slots[slot] === 0, "a rebuilt memo table has room for every entry");
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
};

// invariants/linearizability/types.ts
var UNKNOWN = /* @__PURE__ */ Symbol.for("faultline.linearizability.unknown");
function isUnknown(value) {
  return value === UNKNOWN;
}

// invariants/linearizability/search.ts
var NONE = -1;
function mix32(value) {
  let h = Math.imul(value ^ value >>> 16, 2146121005);
  h = Math.imul(h ^ h >>> 15, 2221713035);
  return h ^ h >>> 16 | 0;
}
function defaultEqual(a, b) {
  return a === b;
}
var PartitionSearch = class {
  operationCount;
  model;
  inputs;
  outputs;
  // Doubly linked list of entries in time order; entry 2n is the head sentinel.
  next;
  prev;
  head;
  /** For a call entry, its return entry; NONE for a return entry. */
  matchOf;
  operationOf;
  /**
   * For an open operation, the previous open operation (by call) with the same input, or NONE.
   * Such twins are interchangeable once both are called, so only the earliest unused one is
   * tried: k crashed `write(1)`s then cost k+1 configurations, not 2^k.
   */
  twinBefore;
  /**
   * Open operations are not in the list: they are tried only when the walk reaches a return
   * (after every finished call before it), in call order, those called by then. Trying them
   * last makes the search reach the configurations that used fewer of them first, so the
   * memo's subsumption prunes the ones that used more.
   */
  openOrder;
  openCall;
  /** Each list entry's time (call or return). */
  entryTime;
  /** Stack slots for open operations: their index in openOrder, and the return they met. */
  stackOpen;
  stackBlock;
  /**
   * 1 at a depth whose operation is read-only (Model.readOnly: it never changes the state).
   * Such an operation can always be linearized as soon as it is a candidate and its step
   * succeeds: moving it earlier in any successful order changes no state and breaks no
   * real-time order (every operation that returned before its call is linearized already). So that depth tries nothing else: when
   * its subtree fails, so does its parent. Reads then stop multiplying the search.
   */
  stackForced;
  equal;
  readOnly;
  /** Set when the current configuration is known to fail without trying more candidates. */
  failHere = false;
  /** -1 while walking the list; else the next index into openOrder to try before `block`. */
  openCursor = -1;
  block = NONE;
  zobrist;
  /** Each operation's bit: finished operations first in their order, open ones after them. */
  bitOf;
  bits;
  /** The bitset with its all-ones prefix and zero suffix tracked, for the compact memo. */
  view;
  finiteWords;
  memo;
  stateHash;
  stackEntry;
  stackState;
  depth = 0;
  /** Search steps so far: one per entry visited. */
  stepsTaken = 0;
  bitsHash = 0;
  state;
  cursor;
  done = "running";
  deepest;
  deepestDepth = -1;
  /** The deepest prefix so far; entries below `unchangedDepth` still match the stack. */
  deepestPrefix;
  unchangedDepth = 0;
  constructor(model, operations, maxMemoBytes = Number.POSITIVE_INFINITY) {
    const n = operations.length;
    this.operationCount = n;
    this.model = model;
    this.inputs = operations.map((op) => op.input);
    this.outputs = operations.map((op) => op.output);
    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1);
    this.prev = new Int32Array(2 * n + 1);
    this.matchOf = new Int32Array(2 * n);
    this.operationOf = new Int32Array(2 * n);
    this.twinBefore = new Int32Array(n).fill(NONE);
    this.entryTime = new Float64Array(2 * n);
    this.stackOpen = new Int32Array(n).fill(NONE);
    this.stackBlock = new Int32Array(n);
    this.stackForced = new Uint8Array(n);
    this.equal = model.equal?.bind(model) ?? defaultEqual;
    this.readOnly = model.readOnly?.bind(model);
    this.zobrist = new Int32Array(n);
    this.bitOf = new Int32Array(n);
    let finite = 0;
    for (const operation of operations) {
      if (!isUnknown(operation.output)) {
        finite++;
      }
    }
    this.finiteWords = Math.ceil(finite / 32);
    let nextFinite = 0;
    let nextOpen = this.finiteWords * 32;
    operations.forEach((operation, op) => {
      this.bitOf[op] = isUnknown(operation.output) ? nextOpen++ : nextFinite++;
    });
    this.bits = new Uint32Array(Math.max(1, Math.ceil(nextOpen / 32)));
    this.view = { bits: this.bits, fullWords: 0, topWord: 0, openWord: this.finiteWords };
    const budget = Number.isFinite(maxMemoBytes) ? maxMemoBytes : 2 ** 52;
    this.memo = new MemoSet(model.equal?.bind(model) ?? defaultEqual, budget);
    this.deepestPrefix = new Int32Array(n);
    this.stateHash = model.hash?.bind(model);
    this.stackEntry = new Int32Array(n);
    this.stackState = new Array(n);
    this.state = model.init();
    const openOps = operations.map((operation, op) => ({ op, operation })).filter(({ operation }) => isUnknown(operation.output)).sort((a, b) => a.operation.callTime - b.operation.callTime || a.op - b.op);
    this.openOrder = Int32Array.from(openOps, ({ op }) => op);
    this.openCall = Float64Array.from(openOps, ({ operation }) => operation.callTime);
    this.buildList(operations);
    this.findTwins(operations);
    this.cursor = this.next[this.head];
  }
  get memoSize() {
    return this.memo.size;
  }
  get memoBytes() {
    return this.memo.bytes;
  }
  /** Memo entries forgotten to keep within the budget. */
  get memoEvicted() {
    return this.memo.evicted;
  }
  get outcome() {
    return this.done;
  }
  /** The deepest point reached, recorded when the search had to backtrack from it. */
  get deepestPoint() {
    return this.deepest;
  }
  buildList(operations) {
    const n = operations.length;
    const times = new Float64Array(2 * n);
    const order = [];
    for (let op = 0; op < n; op++) {
      const operation = operations[op];
      assert(Number.isFinite(operation.callTime), `operation ${op} needs a finite call time`);
      const open = isUnknown(operation.output);
      if (!open) {
        assert(
          operation.returnTime >= operation.callTime,
          `operation ${op} returns before its call`
        );
        times[2 * op] = operation.callTime;
        times[2 * op + 1] = operation.returnTime;
        order.push(2 * op, 2 * op + 1);
      }
      this.zobrist[op] = open ? 0 : mix32(op + 2654435769);
    }
    order.sort((a, b) => times[a] - times[b] || (a & 1) - (b & 1) || a - b);
    const position = new Int32Array(2 * n);
    for (let i = 0; i < order.length; i++) {
      const raw = order[i];
      position[raw] = i;
      this.operationOf[i] = raw >> 1;
      this.entryTime[i] = times[raw];
    }
    for (let i = 0; i < order.length; i++) {
      const raw = order[i];
      this.matchOf[i] = (raw & 1) === 0 ? position[raw + 1] : NONE;
      this.next[i] = i + 1 < order.length ? i + 1 : NONE;
      this.prev[i] = i === 0 ? this.head : i - 1;
    }
    this.next[this.head] = order.length > 0 ? 0 : NONE;
    this.prev[this.head] = NONE;
  }
  /** Runs at most `maxSteps` steps. Once the outcome is not 'running' it stays so. */
  run(maxSteps) {
    assert(maxSteps > 0, "a slice runs at least one step");
    let steps = 0;
    for (; steps < maxSteps && this.done === "running"; steps++) {
      if (this.next[this.head] === NONE) {
        this.done = "linearizable";
        break;
      }
      if (this.failHere) {
        this.failHere = false;
        if (!this.backtrack(this.firstReturn())) {
          this.done = "illegal";
        }
        continue;
      }
      if (this.openCursor < 0) {
        const entry = this.cursor;
        if (this.matchOf[entry] !== NONE) {
          this.tryCall(entry);
        } else {
          this.openCursor = 0;
          this.block = entry;
        }
        continue;
      }
      const j = this.nextOpen(this.openCursor);
      if (j !== NONE) {
        this.tryOpen(j);
      } else if (!this.backtrack(this.block)) {
        assert(this.depth === 0 && this.deepest !== void 0, "illegal only with nothing to undo");
        this.done = "illegal";
      }
    }
    this.stepsTaken += steps;
    return this.done;
  }
  /** Links each open operation to its previous twin by call time (see twinBefore). */
  findTwins(operations) {
    const lastOf = /* @__PURE__ */ new Map();
    const byCall = operations.map((operation, op) => ({ op, operation })).filter(({ operation }) => isUnknown(operation.output)).sort((a, b) => a.operation.callTime - b.operation.callTime || a.op - b.op);
    for (const { op, operation } of byCall) {
      const key2 = JSON.stringify(operation.input);
      const before2 = lastOf.get(key2);
      if (before2 !== void 0) {
        this.twinBefore[op] = before2;
      }
      lastOf.set(key2, op);
    }
  }
  isLinearized(op) {
    const position = this.bitOf[op];
    return (this.bits[position >>> 5] & 1 << (position & 31)) !== 0;
  }
  /** The first open operation from `from` on that may be linearized before `block`, or NONE. */
  nextOpen(from2) {
    const limit = this.entryTime[this.block];
    for (let j = from2; j < this.openOrder.length && this.openCall[j] <= limit; j++) {
      const op = this.openOrder[j];
      if (this.isLinearized(op)) {
        continue;
      }
      const twin = this.twinBefore[op];
      if (twin !== NONE && !this.isLinearized(twin)) {
        continue;
      }
      return j;
    }
    return NONE;
  }
  tryOpen(j) {
    const op = this.openOrder[j];
    const result = this.model.step(this.state, this.inputs[op], this.outputs[op]);
    if (!result.ok || this.equal(result.state, this.state)) {
      this.openCursor = j + 1;
      return;
    }
    const position = this.bitOf[op];
    this.setBit(position);
    const hash = this.stateHash === void 0 ? this.bitsHash : this.bitsHash ^ mix32(this.stateHash(result.state));
    if (this.memo.addIfAbsent(hash, this.view, result.state)) {
      this.stackEntry[this.depth] = NONE;
      this.stackForced[this.depth] = 0;
      this.stackOpen[this.depth] = j;
      this.stackBlock[this.depth] = this.block;
      this.stackState[this.depth] = this.state;
      this.depth++;
      this.state = result.state;
      this.openCursor = -1;
      this.cursor = this.next[this.head];
    } else {
      this.clearBit(position);
      this.openCursor = j + 1;
    }
  }
  tryCall(entry) {
    const op = this.operationOf[entry];
    const result = this.model.step(this.state, this.inputs[op], this.outputs[op]);
    if (!result.ok) {
      this.cursor = this.next[entry];
      return;
    }
    const position = this.bitOf[op];
    this.setBit(position);
    const bitsHash = this.bitsHash ^ this.zobrist[op];
    const hash = this.stateHash === void 0 ? bitsHash : bitsHash ^ mix32(this.stateHash(result.state));
    const forced = this.readOnly?.(this.inputs[op], this.outputs[op]) === true;
    if (this.memo.addIfAbsent(hash, this.view, result.state)) {
      this.stackEntry[this.depth] = entry;
      this.stackForced[this.depth] = forced ? 1 : 0;
      this.stackOpen[this.depth] = NONE;
      this.stackState[this.depth] = this.state;
      this.depth++;
      this.state = result.state;
      this.bitsHash = bitsHash;
      this.lift(entry);
      this.cursor = this.next[this.head];
    } else {
      this.clearBit(position);
      if (forced) {
        this.failHere = true;
        return;
      }
      this.cursor = this.next[entry];
    }
  }
  /** The first return entry in the list: the operation that blocks this configuration. */
  firstReturn() {
    let entry = this.next[this.head];
    while (entry !== NONE && this.matchOf[entry] !== NONE) {
      entry = this.next[entry];
    }
    assert(entry !== NONE, "a non-empty list ends with a return");
    return entry;
  }
  setBit(position) {
    const word = position >>> 5;
    const bits = this.bits;
    bits[word] |= 1 << (position & 31);
    if (word >= this.finiteWords) {
      return;
    }
    const view = this.view;
    if (word >= view.topWord) {
      view.topWord = word + 1;
    }
    if (word === view.fullWords) {
      let full = view.fullWords;
      while (full < this.finiteWords && bits[full] === 4294967295) {
        full++;
      }
      view.fullWords = full;
    }
  }
  clearBit(position) {
    const word = position >>> 5;
    const bits = this.bits;
    bits[word] &= ~(1 << (position & 31));
    if (word >= this.finiteWords) {
      return;
    }
    const view = this.view;
    if (word < view.fullWords) {
      view.fullWords = word;
    }
    if (word === view.topWord - 1 && bits[word] === 0) {
      let top = word;
      while (top > view.fullWords && bits[top - 1] === 0) {
        top--;
      }
      view.topWord = top;
    }
  }
  /**
   * At a return entry: undo the last linearized call, and any forced ones below it (see
   * stackForced). False when there is nothing to undo.
   */
  backtrack(returnEntry) {
    if (this.depth > this.deepestDepth) {
      this.recordDeepest(returnEntry);
    }
    for (let guard = 0; this.depth > 0 && this.stackForced[this.depth - 1] === 1; guard++) {
      assert(guard <= this.operationCount, "forced levels are on the stack");
      this.undoOne();
    }
    if (this.depth === 0) {
      return false;
    }
    this.undoOne();
    return true;
  }
  undoOne() {
    this.depth--;
    if (this.depth < this.unchangedDepth) {
      this.unchangedDepth = this.depth;
    }
    const entry = this.stackEntry[this.depth];
    this.state = this.stackState[this.depth];
    if (entry === NONE) {
      const j = this.stackOpen[this.depth];
      this.clearBit(this.bitOf[this.openOrder[j]]);
      this.openCursor = j + 1;
      this.block = this.stackBlock[this.depth];
      return;
    }
    const op = this.operationOf[entry];
    this.clearBit(this.bitOf[op]);
    this.bitsHash ^= this.zobrist[op];
    this.unlift(entry);
    this.cursor = this.next[entry];
    this.openCursor = -1;
  }
  /**
   * Keeps the deepest point. Only the part of the stack that changed since the last record is
   * copied: copying the whole prefix each time made long linearizable histories quadratic.
   */
  recordDeepest(returnEntry) {
    this.deepestDepth = this.depth;
    for (let d = this.unchangedDepth; d < this.depth; d++) {
      const entry = this.stackEntry[d];
      this.deepestPrefix[d] = entry === NONE ? this.openOrder[this.stackOpen[d]] : this.operationOf[entry];
    }
    this.unchangedDepth = this.depth;
    this.deepest = {
      prefix: this.deepestPrefix.subarray(0, this.depth),
      blocked: this.operationOf[returnEntry],
      state: this.state
    };
  }
  // Dancing links: the removed entries keep their own pointers, so unlift restores them.
  lift(entry) {
    const ret = this.matchOf[entry];
    const { next, prev } = this;
    next[prev[entry]] = next[entry];
    prev[next[entry]] = prev[entry];
    next[prev[ret]] = next[ret];
    if (next[ret] !== NONE) {
      prev[next[ret]] = prev[ret];
    }
  }
  unlift(entry) {
    const ret = this.matchOf[entry];
    const { next, prev } = this;
    next[prev[ret]] = ret;
    if (next[ret] !== NONE) {
      prev[next[ret]] = ret;
    }
    next[prev[entry]] = entry;
    prev[next[entry]] = entry;
  }
};

// invariants/linearizability/checker.ts
var DEFAULT_MAX_STEPS = Number.POSITIVE_INFINITY;
var DEFAULT_MAX_MEMO_BYTES = 1024 * 1024 * 1024;
var SLICE_STEPS = 16384;
function checkOperations(model, operations, options = {}) {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxMemoBytes = options.maxMemoBytes ?? DEFAULT_MAX_MEMO_BYTES;
  assert(maxSteps > 0 && maxMemoBytes > 0, "a budget must be positive");
  const deadlineMs = deadlineOf(options);
  const parts = partsOf(model, operations, maxMemoBytes);
  let steps = 0;
  let active = parts.filter((part) => part.search.operationCount > 0);
  for (let pass = 0; active.length > 0; pass++) {
    assert(pass <= steps + 1, "the scheduler makes progress on every pass");
    const stillActive = [];
    for (const part of active) {
      if (steps >= maxSteps) {
        return unknown(steps, parts, `the search used its budget of ${maxSteps} steps`);
      }
      const before2 = part.search.stepsTaken;
      const outcome = part.search.run(Math.min(SLICE_STEPS, maxSteps - steps));
      steps += part.search.stepsTaken - before2;
      if (outcome === "illegal") {
        const explanation = explain(model, operations, part);
        return { verdict: "not-linearizable", ...stats(steps, parts), explanation };
      }
      if (outcome === "running") {
        stillActive.push(part);
      }
    }
    if (deadlineMs !== void 0 && stillActive.length > 0 && options.nowMs() > deadlineMs) {
      return unknown(steps, parts, `the search ran out of its ${options.timeoutMs} ms`);
    }
    active = stillActive;
  }
  return { verdict: "linearizable", ...stats(steps, parts) };
}
function deadlineOf(options) {
  if (options.timeoutMs === void 0 || options.timeoutMs <= 0) {
    return void 0;
  }
  assert(options.nowMs !== void 0, "a timeout needs a clock: pass nowMs");
  return options.nowMs() + options.timeoutMs;
}
function stats(steps, parts) {
  const memoForgotten = parts.reduce((sum, part) => sum + part.search.memoEvicted, 0);
  return { steps, partitions: parts.length, memoForgotten };
}
function unknown(steps, parts, reason) {
  return { verdict: "unknown", ...stats(steps, parts), reason };
}
function partsOf(model, operations, maxMemoBytes) {
  const split = model.partition === void 0 ? [{ label: "", operations: [...operations] }] : model.partition(operations);
  const indexOf = /* @__PURE__ */ new Map();
  operations.forEach((op, index) => {
    indexOf.set(op, index);
  });
  let total = 0;
  const parts = split.map((partition) => {
    total += partition.operations.length;
    const indices = partition.operations.map((op) => {
      const index = indexOf.get(op);
      assert(
        index !== void 0,
        `${model.name}.partition returned an operation not in the history`
      );
      return index;
    });
    return {
      label: partition.label,
      indices,
      // Each part's share of the budget, by its size: a part's memo grows with its operations.
      search: new PartitionSearch(
        model,
        partition.operations,
        Math.max(4096, maxMemoBytes * partition.operations.length / operations.length)
      )
    };
  });
  assert(total === operations.length, `${model.name}.partition must keep every operation once`);
  return parts;
}
function describeOperation(model, op) {
  const what = model.describeOperation?.(op.input, op.output) ?? `${JSON.stringify(op.input)} -> ${isUnknown(op.output) ? "unknown" : JSON.stringify(op.output)}`;
  return `${what} by client ${op.clientId} (${whereOf(op)})`;
}
function whereOf(op) {
  const open = isUnknown(op.output);
  if (op.lines !== void 0) {
    if (open || op.lines.return === void 0) {
      return `called at line ${op.lines.call}, never returned`;
    }
    return `lines ${op.lines.call}\u2013${op.lines.return}`;
  }
  return open ? `called at t=${op.callTime}, never returned` : `called at t=${op.callTime}, returned at t=${op.returnTime}`;
}
function explain(model, operations, part) {
  const deepest = part.search.deepestPoint;
  assert(deepest !== void 0, "an illegal part has backtracked from some deepest point");
  const prefix = Array.from(deepest.prefix, (local) => part.indices[local]);
  const blocked = part.indices[deepest.blocked];
  const stateAfterPrefix = model.describeState?.(deepest.state) ?? JSON.stringify(deepest.state);
  const blockedOp = operations[blocked];
  const n = part.indices.length;
  const last = prefix.at(-1);
  const ending = last === void 0 ? "" : `, ending with ${describeOperation(model, operations[last])},`;
  const scope = part.label === "" ? "" : ` in ${part.label}`;
  const returnNote = isUnknown(blockedOp.output) ? "" : " before it returned";
  const message = `Not linearizable${scope}: ${describeOperation(model, blockedOp)} cannot be placed. The longest linearizable prefix found orders ${prefix.length} of ${n} operations${ending} and leaves the state at ${stateAfterPrefix}; from there no order of the pending operations lets this one take effect${returnNote} with the output it reported. That is a lost write, a stale read or a reordering${scope}: compare it with the operations that completed just before it.`;
  return {
    partition: part.label,
    operationsInPartition: n,
    longestPrefix: prefix,
    blockedOperation: blocked,
    stateAfterPrefix,
    message
  };
}

// invariants/linearizability/history.ts
var KEYWORD = /^:[A-Za-z_*+!?<>=.-][\w*+!?<>=.\-/]*$/;
function showValue(value) {
  if (value === null || value === void 0) {
    return "nil";
  }
  if (typeof value === "string") {
    return KEYWORD.test(value) ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(showValue).join(" ")}]`;
  }
  return String(value);
}

// invariants/linearizability/knossos-models.ts
function stringHash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  }
  return mix32(h);
}
function canonical(value) {
  return showValue(value);
}
function operationValue(input, output) {
  if (!isUnknown(output) && output.value !== null && output.value !== void 0) {
    return output.value;
  }
  return input.value;
}
function unknownFunction(model, known, f) {
  return `the ${model} model knows ${known}, not ${f}`;
}
function insertSorted(items, item, distinct) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = lo + hi >>> 1;
    if (items[mid] < item) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (distinct && items[lo] === item) {
    return items;
  }
  const out = items.slice();
  out.splice(lo, 0, item);
  return out;
}
function sameItems(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}
var EMPTY_QUEUE = { items: [], hash: 0 };
function fifoHash(items) {
  let h = items.length;
  for (const item of items) {
    h = Math.imul(h, 16777619) + stringHash(item) | 0;
  }
  return mix32(h);
}
function queueModel(name) {
  const fifo = name === "fifo-queue";
  return {
    name,
    init: () => EMPTY_QUEUE,
    step(state, input, output) {
      if (input.f === "enqueue") {
        const item = canonical(input.value);
        if (fifo) {
          const items2 = [...state.items, item];
          return { ok: true, state: { items: items2, hash: fifoHash(items2) } };
        }
        const items = insertSorted(state.items, item, false);
        return { ok: true, state: { items, hash: state.hash + stringHash(item) | 0 } };
      }
      if (input.f === "dequeue") {
        const item = canonical(operationValue(input, output));
        if (fifo) {
          if (state.items[0] !== item) {
            return { ok: false, state };
          }
          const items2 = state.items.slice(1);
          return { ok: true, state: { items: items2, hash: fifoHash(items2) } };
        }
        const at2 = state.items.indexOf(item);
        if (at2 < 0) {
          return { ok: false, state };
        }
        const items = state.items.slice();
        items.splice(at2, 1);
        return { ok: true, state: { items, hash: state.hash - stringHash(item) | 0 } };
      }
      return { ok: false, state };
    },
    equal: (a, b) => a.hash === b.hash && sameItems(a.items, b.items),
    hash: (state) => state.hash,
    describeOperation(input, output) {
      const value = input.f === "dequeue" ? operationValue(input, output) : input.value;
      return `${input.f}(${showValue(value)})${isUnknown(output) ? " -> unknown" : ""}`;
    },
    describeState: (state) => `[${state.items.join(" ")}]`,
    validateInput: (input) => input.f === "enqueue" || input.f === "dequeue" ? void 0 : unknownFunction(name, "enqueue and dequeue", input.f)
  };
}
var unorderedQueueModel = queueModel("unordered-queue");
var fifoQueueModel = queueModel("fifo-queue");

// invariants/linearizability/models.ts
var HASH_MULTIPLIER = 16777619;
function extendHash(hash, suffix) {
  let h = hash;
  for (let i = 0; i < suffix.length; i++) {
    h = Math.imul(h, HASH_MULTIPLIER) + suffix.charCodeAt(i) | 0;
  }
  return h;
}
var EMPTY_KV_STATE = { value: "", hash: 0 };
function kvStep(state, input, output) {
  switch (input.f) {
    case "get":
      return { ok: isUnknown(output) || output.value === state.value, state };
    case "put": {
      const value = String(input.value ?? "");
      return { ok: true, state: { value, hash: extendHash(0, value) } };
    }
    case "append": {
      const suffix = String(input.value ?? "");
      return {
        ok: true,
        state: { value: state.value + suffix, hash: extendHash(state.hash, suffix) }
      };
    }
    default:
      return { ok: false, state };
  }
}
function partitionByKey(operations) {
  const byKey2 = /* @__PURE__ */ new Map();
  for (const op of operations) {
    const key2 = op.input.key ?? "";
    let part = byKey2.get(key2);
    if (part === void 0) {
      part = [];
      byKey2.set(key2, part);
    }
    part.push(op);
  }
  return [...byKey2.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([key2, part]) => ({ label: `key ${JSON.stringify(key2)}`, operations: part }));
}
var kvModel = {
  name: "kv",
  init: () => EMPTY_KV_STATE,
  step: kvStep,
  equal: (a, b) => a.hash === b.hash && a.value === b.value,
  hash: (state) => state.hash,
  readOnly: (input) => input.f === "get",
  partition: partitionByKey,
  describeOperation(input, output) {
    const key2 = JSON.stringify(input.key ?? "");
    switch (input.f) {
      case "get":
        return `get(${key2}) -> ${isUnknown(output) ? "unknown" : showValue(output.value)}`;
      default: {
        const suffix = isUnknown(output) ? " -> unknown" : "";
        return `${input.f}(${key2}, ${showValue(input.value)})${suffix}`;
      }
    }
  },
  describeState: (state) => JSON.stringify(state.value),
  validateInput(input) {
    if (input.f !== "get" && input.f !== "put" && input.f !== "append") {
      return `the kv model knows get, put and append, not ${input.f}`;
    }
    if (input.key === void 0) {
      return `a kv ${input.f} needs a key`;
    }
    if (input.f !== "get" && typeof input.value !== "string") {
      return `a kv ${input.f} needs a string value, got ${showValue(input.value)}`;
    }
    return void 0;
  }
};

// invariants/kv.ts
function kvInput(input) {
  if (typeof input !== "object" || input === null) {
    return void 0;
  }
  const record2 = input;
  const f = record2["f"];
  if (f !== "get" && f !== "put" && f !== "append" || typeof record2["key"] !== "string") {
    return void 0;
  }
  const value = record2["value"];
  return { f, key: record2["key"], value: typeof value === "string" ? value : null };
}
function toCheckerOperations(history) {
  const operations = [];
  for (const op of history) {
    const input = kvInput(op.input);
    if (input === void 0 || op.status === "fail") {
      continue;
    }
    const checkedInput = input.f === "get" ? { f: input.f, key: input.key } : { f: input.f, key: input.key, value: input.value ?? "" };
    const open = op.status === void 0 || op.returnUs === void 0;
    operations.push({
      clientId: op.client,
      input: checkedInput,
      output: open ? UNKNOWN : { type: "ok", value: input.f === "get" ? String(op.output ?? "") : null },
      callTime: op.callUs,
      returnTime: open ? Number.POSITIVE_INFINITY : op.returnUs
    });
  }
  return operations;
}
var kvCheckerStats = {
  runs: 0,
  linearizable: 0,
  notLinearizable: 0,
  unknown: 0,
  lastUnknownReason: ""
};
function shortenQuoted(text, keep = 60) {
  return text.replace(
    /"((?:[^"\\]|\\.)*)"/g,
    (whole, inner) => inner.length <= 2 * keep ? whole : `"${inner.slice(0, keep)}\u2026(${inner.length} chars)\u2026${inner.slice(-keep)}"`
  );
}
var KV_CHECK_STEPS_DEFAULT = 2e7;
function kvLinearizable(options = {}) {
  return {
    name: "kv-linearizable",
    atEnd(view) {
      const operations = toCheckerOperations(view.history);
      const result = checkOperations(kvModel, operations, {
        maxSteps: options.maxSteps ?? KV_CHECK_STEPS_DEFAULT
      });
      kvCheckerStats.runs++;
      switch (result.verdict) {
        case "linearizable":
          kvCheckerStats.linearizable++;
          return void 0;
        case "unknown":
          kvCheckerStats.unknown++;
          kvCheckerStats.lastUnknownReason = result.reason;
          return { undecided: `linearizability unknown: ${result.reason}` };
        case "not-linearizable":
          kvCheckerStats.notLinearizable++;
          return `The KV history (${operations.length} operations) is not linearizable. ${shortenQuoted(result.explanation.message)}`;
      }
    }
  };
}
var TOKEN = /x (\d+) (\d+) y/g;
function parseTokens(value) {
  const tokens = [];
  for (const match of value.matchAll(TOKEN)) {
    tokens.push({ text: match[0], client: Number(match[1]), seq: Number(match[2]) });
  }
  return { tokens, leftover: value.replace(TOKEN, "") };
}
function appendsOf(history) {
  const appends = /* @__PURE__ */ new Map();
  for (const op of history) {
    const input = kvInput(op.input);
    if (input?.f === "append" && input.value !== null) {
      appends.set(input.value, {
        key: input.key,
        acked: op.status === "ok",
        callUs: op.callUs,
        returnUs: op.returnUs
      });
    }
  }
  return appends;
}
function ms(us) {
  return `${(us / 1e3).toFixed(3)} ms`;
}
function upToDateServers(view) {
  const servers = [];
  for (const node of view.servers) {
    const state = kvServerState(view, node);
    if (state?.kv !== void 0) {
      servers.push({ node, state });
    }
  }
  const most = Math.max(...servers.map((server2) => server2.state.appliedIndex));
  return servers.filter((server2) => server2.state.appliedIndex === most);
}
function maxAckedIndex(observations) {
  let most = 0;
  for (const record2 of observations) {
    const observation = record2.observation;
    if (observation.type === "kv-acked" && typeof observation["index"] === "number") {
      most = Math.max(most, observation["index"]);
    }
  }
  return most;
}
function checkKeyValue(where, key2, value, appends) {
  const { tokens, leftover } = parseTokens(value);
  const seen = /* @__PURE__ */ new Set();
  const lastSeq = /* @__PURE__ */ new Map();
  for (const token of tokens) {
    const record2 = appends.get(token.text);
    if (record2 === void 0 || record2.key !== key2) {
      return `${where}: key ${JSON.stringify(key2)} holds ${JSON.stringify(token.text)}, which no client appended to it`;
    }
    if (seen.has(token.text)) {
      return `${where}: Append ${JSON.stringify(token.text)} (called at ${ms(record2.callUs)}${record2.acked ? `, acknowledged at ${ms(record2.returnUs ?? 0)}` : ", never acknowledged"}) appears twice in key ${JSON.stringify(key2)}: a retried Append was applied twice`;
    }
    seen.add(token.text);
    const previous = lastSeq.get(token.client) ?? 0;
    if (token.seq < previous) {
      return `${where}: in key ${JSON.stringify(key2)}, client ${token.client}'s Append #${token.seq} comes after its Append #${previous}, but the client issued them the other way round`;
    }
    lastSeq.set(token.client, token.seq);
  }
  if (leftover !== "" && [...appends.values()].some((record2) => record2.key === key2)) {
    return `${where}: key ${JSON.stringify(key2)} holds text that is no whole Append: ${JSON.stringify(leftover.slice(0, 80))}`;
  }
  for (const [text, record2] of appends) {
    if (record2.key === key2 && record2.acked && !seen.has(text)) {
      return `${where}: the Append ${JSON.stringify(text)} to key ${JSON.stringify(key2)}, acknowledged at ${ms(record2.returnUs ?? 0)}, is missing from its final value: an acknowledged write was lost`;
    }
  }
  return void 0;
}
function kvAppendsExactlyOnce() {
  return {
    name: "kv-appends-exactly-once",
    atEnd(view, observations) {
      const appends = appendsOf(view.history);
      if (appends.size === 0) {
        return void 0;
      }
      const replicas = upToDateServers(view);
      if (replicas.length === 0) {
        return "no KV server is up at the end to hold the final values";
      }
      const needed = maxAckedIndex(observations);
      const applied = replicas[0].state.appliedIndex;
      if (applied < needed) {
        return `an Append was acknowledged at log index ${needed}, but after the settle phase no up server has applied past index ${applied}`;
      }
      const keys = new Set([...appends.values()].map((record2) => record2.key));
      for (const { node, state } of replicas) {
        const where = `${view.name(node)} (applied through ${state.appliedIndex})`;
        for (const key2 of [...keys].sort()) {
          const verdict = checkKeyValue(where, key2, state.kv.data.get(key2) ?? "", appends);
          if (verdict !== void 0) {
            return verdict;
          }
        }
      }
      return void 0;
    }
  };
}
function firstDifference(a, b) {
  const keys = [.../* @__PURE__ */ new Set([...a.keys(), ...b.keys()])].sort();
  return keys.find((key2) => (a.get(key2) ?? "") !== (b.get(key2) ?? ""));
}
function kvReplicasAgree() {
  return {
    name: "kv-replicas-agree",
    atEnd(view) {
      const byIndex = /* @__PURE__ */ new Map();
      for (const node of view.servers) {
        const state = kvServerState(view, node);
        if (state?.kv === void 0) {
          continue;
        }
        const other = byIndex.get(state.appliedIndex);
        if (other === void 0) {
          byIndex.set(state.appliedIndex, { node, state });
          continue;
        }
        const key2 = firstDifference(other.state.kv.data, state.kv.data);
        if (key2 !== void 0) {
          const show = (s) => shortenQuoted(JSON.stringify(s.kv.data.get(key2) ?? ""), 40);
          return `${view.name(other.node)} and ${view.name(node)} both applied through index ${state.appliedIndex} but disagree on key ${JSON.stringify(key2)}: ${show(other.state)} vs ${show(state)}`;
        }
      }
      return void 0;
    }
  };
}
function kvPersistedStateBounded(bounds) {
  const check = (view, node) => {
    const state = kvServerState(view, node);
    if (state?.kv === void 0) {
      return void 0;
    }
    const raftMax = bounds.raftStateBytesMax;
    if (raftMax !== void 0 && state.raftStateBytes > raftMax) {
      return `${view.name(node)} holds ${state.raftStateBytes} bytes of persisted Raft state, more than the bound of ${raftMax}: the log is not being compacted`;
    }
    const snapshotMax = bounds.snapshotBytesMax;
    if (snapshotMax !== void 0 && state.snapshotBytes > snapshotMax) {
      return `${view.name(node)}'s snapshot is ${state.snapshotBytes} bytes, more than the bound of ${snapshotMax}`;
    }
    return void 0;
  };
  return {
    name: "kv-persisted-state-bounded",
    onObservation(record2, view) {
      const type = record2.observation.type;
      return view.servers.includes(record2.node) && (type === "applied" || type === "log-rewritten") ? check(view, record2.node) : void 0;
    },
    atEnd(view) {
      for (const node of view.servers) {
        const verdict = check(view, node);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      return void 0;
    }
  };
}
function kvInvariants(options = {}) {
  return [kvLinearizable(options), kvAppendsExactlyOnce(), kvReplicasAgree()];
}
var kvSometimes = {
  "a retried write was recognised as a duplicate": (record2) => record2.observation.type === "kv-duplicate-suppressed",
  "a client gave up on an operation": (record2) => record2.observation.type === "kv-gave-up",
  "a state machine was restored from a snapshot": (record2) => record2.observation.type === "snapshot-applied"
};
function acknowledged(record2, f) {
  const observation = kvClientObservation(record2);
  return observation?.type === "kv-acked" && observation.f === f;
}
var kvWorkloadSometimes = {
  "a Put was acknowledged": (record2) => acknowledged(record2, "put"),
  "an Append was acknowledged": (record2) => acknowledged(record2, "append"),
  "a Get read a shared key's Put": (record2) => {
    const observation = kvClientObservation(record2);
    return observation?.type === "kv-read" && isSharedKey(observation.key) && observation.valueChars > 0;
  }
};
function kvOperationsComplete(fromUs, toUs) {
  return {
    name: "kv-operations-complete",
    atEnd(view, observations) {
      if (quorumLostToMediaFaults(view, observations) !== void 0) {
        return void 0;
      }
      for (const op of view.history) {
        const input = kvInput(op.input);
        if (input === void 0 || op.callUs < fromUs || op.callUs > toUs) {
          continue;
        }
        if (op.returnUs === void 0) {
          const what = `${input.f}(${JSON.stringify(input.key)}${input.value === null ? "" : `, ${JSON.stringify(input.value)}`})`;
          return `${view.name(op.client)}'s ${what}, called at ${ms(op.callUs)}, never completed by the end of the run (faults had stopped): the service stopped making progress`;
        }
      }
      return void 0;
    }
  };
}
function kvEveryClientCompletes(plan, group = "clients") {
  const opsMax = plan.workload["opsMax"];
  const members = Topology.of(plan).groups.find((candidate2) => candidate2.name === group)?.members;
  return {
    name: "kv-every-client-completes",
    atEnd(view, observations) {
      if (typeof opsMax === "number" && opsMax <= 0) {
        return void 0;
      }
      if (quorumLostToMediaFaults(view, observations) !== void 0) {
        return void 0;
      }
      const completed2 = /* @__PURE__ */ new Set();
      for (const op of view.history) {
        if (op.returnUs !== void 0 && kvInput(op.input) !== void 0) {
          completed2.add(op.client);
        }
      }
      const idle = (members ?? []).filter((client) => !completed2.has(client));
      if (idle.length === 0) {
        return void 0;
      }
      const names = idle.map((client) => view.name(client)).join(", ");
      return `${names} completed no operation in the whole run, settle phase included (every fault had stopped): a client that gets nothing done passes every other check`;
    }
  };
}
function kvAppendsContendOnOneKey(key2) {
  return {
    name: "kv-appends-contend-on-one-key",
    atEnd(view) {
      const appenders = /* @__PURE__ */ new Set();
      for (const op of view.history) {
        const input = kvInput(op.input);
        if (input?.f !== "append") {
          continue;
        }
        if (input.key !== key2) {
          return `${view.name(op.client)} appended to key ${JSON.stringify(input.key)} at ${op.callUs} \xB5s, but every client of this workload appends to the one key ${JSON.stringify(key2)}: the appends do not contend`;
        }
        if (op.returnUs !== void 0 && op.status !== "fail") {
          appenders.add(op.client);
        }
      }
      const wanted = Math.min(2, view.clients.length);
      if (appenders.size < wanted) {
        return `Appends of only ${appenders.size} client${appenders.size === 1 ? "" : "s"} were acknowledged on key ${JSON.stringify(key2)}, of ${view.clients.length}: the one-key workload needs two clients' appends to contend`;
      }
      return void 0;
    }
  };
}

// systems/kv/workload.ts
var DEFAULT_KV_WORKLOAD = {
  appendPercent: 50,
  putPercent: 0,
  sharedKeys: 5,
  appendKeys: "own",
  thinkUsMax: 1e4,
  attemptTimeoutUs: 2e5,
  giveUpUs: 2e6,
  opsMax: Number.POSITIVE_INFINITY
};
var ATTEMPT_TIMEOUT_MIN_US = 2e4;
var KV_SHRINKABLE_WORKLOAD = {
  opsMax: 0,
  sharedKeys: 0
};
function numberParam(params, name, fallback) {
  const value = params[name];
  return typeof value === "number" ? value : fallback;
}
function kvWorkload(params) {
  const d = DEFAULT_KV_WORKLOAD;
  return {
    appendPercent: numberParam(params, "appendPercent", d.appendPercent),
    putPercent: numberParam(params, "putPercent", d.putPercent),
    sharedKeys: numberParam(params, "sharedKeys", d.sharedKeys),
    appendKeys: params["appendKeys"] === "one" ? "one" : "own",
    thinkUsMax: numberParam(params, "thinkUsMax", d.thinkUsMax),
    attemptTimeoutUs: Math.max(
      ATTEMPT_TIMEOUT_MIN_US,
      numberParam(params, "attemptTimeoutUs", d.attemptTimeoutUs)
    ),
    giveUpUs: numberParam(params, "giveUpUs", d.giveUpUs),
    opsMax: numberParam(params, "opsMax", d.opsMax)
  };
}
function scriptKey(clientIndex) {
  return `script.${clientIndex}`;
}
var CYCLE_KEY = "cycle";
function cycleOf(params) {
  const text = params[CYCLE_KEY];
  return typeof text === "string" ? JSON.parse(text) : void 0;
}
function scriptFor(params, clientIndex) {
  const text = params[scriptKey(clientIndex)];
  return typeof text === "string" ? JSON.parse(text) : void 0;
}
var ONE_KEY = "k";
function ownKey(client, workload) {
  return workload.appendKeys === "one" ? ONE_KEY : `k${client}`;
}
function appendToken(client, seq) {
  return `x ${client} ${seq} y`;
}
function nextOp(random, workload, client, clients, seq) {
  const roll = random.int(100);
  if (roll < workload.appendPercent) {
    return { f: "append", key: ownKey(client, workload), value: appendToken(client, seq) };
  }
  const shared = workload.sharedKeys > 0 ? sharedKey(random.int(workload.sharedKeys)) : void 0;
  if (roll < workload.appendPercent + workload.putPercent && shared !== void 0) {
    return { f: "put", key: shared, value: `${client}.${seq}` };
  }
  if (random.chance(0.5)) {
    return { f: "get", key: ownKey(client, workload) };
  }
  if (workload.putPercent > 0 && shared !== void 0 && random.chance(0.5)) {
    return { f: "get", key: shared };
  }
  return { f: "get", key: ownKey(random.pick(clients), workload) };
}

// systems/kv/operation-loop.ts
var NEXT_TAG = "next";
var ATTEMPT_TAG = "attempt";
var RETRY_TAG = "retry";
var OperationLoop = class {
  constructor(ctx, options, holder) {
    this.ctx = ctx;
    this.options = options;
    this.holder = holder;
  }
  ctx;
  options;
  holder;
  seq = 0;
  done = 0;
  operation = null;
  /** The operation's attempt or retry timer: only this one moves it on. */
  timer = -1;
  /** The operation under way, or null between operations. */
  get current() {
    return this.operation;
  }
  /** The holder's onStart: schedules the first operation. */
  start() {
    this.scheduleNext();
  }
  scheduleNext() {
    const { script: script5, workload } = this.options;
    if (script5 !== void 0) {
      const step = script5[this.seq];
      if (step !== void 0) {
        this.ctx.setTimer(Math.max(1, step.atUs - this.ctx.now()), NEXT_TAG);
      }
      return;
    }
    if (this.seq >= workload.opsMax) {
      return;
    }
    this.ctx.setTimer(1 + this.ctx.random.int(Math.max(1, workload.thinkUsMax)), NEXT_TAG);
  }
  begin() {
    const { script: script5, cycle, workload } = this.options;
    const seq = this.seq + 1;
    const op = script5?.[seq - 1]?.op ?? cycle?.[(seq - 1) % cycle.length] ?? nextOp(this.ctx.random, workload, this.ctx.id, this.ctx.clients, seq);
    this.seq = seq;
    const input = op.f === "get" ? { f: op.f, key: op.key, value: null } : { ...op };
    const operation = {
      seq,
      id: `${this.ctx.name}-${seq}`,
      op,
      operationId: this.ctx.history.invoke(input),
      startedUs: this.ctx.now()
    };
    this.operation = operation;
    this.timer = -1;
    this.holder.onBegin?.(operation);
    this.attempt();
  }
  /** Sends the operation under way (again), under a fresh attempt timer. */
  attempt() {
    const operation = this.operation;
    if (operation === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    if (this.holder.send(operation)) {
      this.timer = this.ctx.setTimer(this.options.workload.attemptTimeoutUs, ATTEMPT_TAG);
    }
  }
  /** Cancels the operation's pending attempt or retry timer. */
  cancelTimer() {
    if (this.operation !== null) {
      this.ctx.cancelTimer(this.timer);
    }
  }
  /**
   * Attempts the operation again after `delayUs` (after a refusal, so a stale hint cannot
   * spin). The timer it had is not cancelled here: cancel it first if it may be pending.
   */
  retryAfter(delayUs) {
    if (this.operation !== null) {
      this.timer = this.ctx.setTimer(delayUs, RETRY_TAG);
    }
  }
  /** Records the operation under way complete with `output`, and schedules the next. */
  finish(output) {
    const operation = this.operation;
    if (operation === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    this.ctx.history.complete(operation.operationId, "ok", output);
    this.holder.onComplete?.(operation);
    this.operation = null;
    this.done++;
    this.scheduleNext();
  }
  /** The holder's onTimer, for the timers the holder does not recognise as its own. */
  onTimer(tag, timerId) {
    if (tag === NEXT_TAG) {
      if (this.operation === null) {
        this.begin();
      }
      return;
    }
    const operation = this.operation;
    if (operation === null || timerId !== this.timer) {
      return;
    }
    if (tag === RETRY_TAG) {
      this.attempt();
      return;
    }
    const giveUp = this.options.workload.giveUpUs;
    if (giveUp > 0 && this.ctx.now() - operation.startedUs >= giveUp && this.options.script === void 0) {
      this.ctx.observe({ type: "kv-gave-up", f: operation.op.f, key: operation.op.key });
      this.holder.onGiveUp(operation);
      this.operation = null;
      this.scheduleNext();
      return;
    }
    this.holder.onSilence(operation);
    this.attempt();
  }
  inspect() {
    return { role: "client", seq: this.seq, done: this.done, pending: this.operation?.op ?? null };
  }
};

// systems/kv/sessions.ts
function appliedBefore(sessions, client, seq) {
  return seq <= (sessions.get(client) ?? 0);
}
function recordApplied(sessions, client, seq) {
  sessions.set(client, Math.max(sessions.get(client) ?? 0, seq));
}

// systems/kv/state-machine.ts
var encoder3 = new TextEncoder();
var decoder2 = new TextDecoder();
function encodeCommand2(command) {
  return encoder3.encode(JSON.stringify(command));
}
function decodeCommand(data) {
  const command = JSON.parse(decoder2.decode(data));
  assert(isKvCommand(command), "a KV command must be {op: put|append, key, value, client, seq}");
  return command;
}
function isKvCommand(command) {
  return (command.op === "put" || command.op === "append") && typeof command.key === "string" && typeof command.value === "string" && Number.isSafeInteger(command.client) && Number.isSafeInteger(command.seq);
}
function applyWrite(data, command) {
  const old = data.get(command.key) ?? "";
  data.set(command.key, command.op === "put" ? command.value : old + command.value);
}
var KvStateMachine = class _KvStateMachine {
  constructor(options) {
    this.options = options;
  }
  options;
  data = /* @__PURE__ */ new Map();
  /** client → the highest sequence number applied for it. One outstanding op per client. */
  sessions = /* @__PURE__ */ new Map();
  /** Called for every command the session table suppressed (for `sometimes` coverage). */
  onDuplicate = () => {
  };
  get(key2) {
    return this.data.get(key2) ?? "";
  }
  apply(entry) {
    return this.applyCommand(decodeCommand(entry.data));
  }
  applyCommand(command) {
    if (this.options.dedup && appliedBefore(this.sessions, command.client, command.seq)) {
      this.onDuplicate(command);
      return { duplicate: true };
    }
    applyWrite(this.data, command);
    recordApplied(this.sessions, command.client, command.seq);
    return { duplicate: false };
  }
  snapshot() {
    const body = { data: [...this.data.entries()] };
    if (this.options.sessionsInSnapshot) {
      body.sessions = [...this.sessions.entries()];
    }
    return encoder3.encode(JSON.stringify(body));
  }
  fresh() {
    return new _KvStateMachine(this.options);
  }
  restore(bytes) {
    const body = JSON.parse(decoder2.decode(bytes));
    this.data.clear();
    this.sessions.clear();
    for (const [key2, value] of body.data) {
      this.data.set(key2, value);
    }
    for (const [client, seq] of body.sessions ?? []) {
      this.sessions.set(client, seq);
    }
  }
};

// systems/kv/types.ts
var KV_VARIANTS = {
  "stale-follower-read": "every server answers Get from its local state, without ReadIndex: followers and deposed leaders serve stale values",
  "no-dedup": "the state machine applies every command it is given: a retried Append lands twice",
  "dedup-not-in-snapshot": "the duplicate table is left out of the snapshot: a replica restored from one re-applies a retried Append",
  "apply-before-commit": "the leader applies a write to its state machine and acknowledges it as soon as it is appended to its own log",
  "client-retries-same-server": "after a timeout the client retries the server it last tried, switching only when a server refuses or names a leader: a crashed or cut-off leader holds it until it gives up"
};
function kvVariant(variant) {
  const name = variantFor(variant, "kv");
  return name !== null && name in KV_VARIANTS ? name : null;
}

// systems/kv/client.ts
var REFUSED_RETRY_US = 2e3;
var KvClient = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.operations = new OperationLoop(
      ctx,
      {
        workload: kvWorkload(ctx.workload),
        script: scriptFor(ctx.workload, ctx.members(ctx.group).indexOf(ctx.id)),
        cycle: cycleOf(ctx.workload)
      },
      {
        send: (operation) => this.send(operation),
        onSilence: () => {
          this.target = this.afterSilence();
        },
        onGiveUp: () => {
          this.target = this.afterSilence();
        }
      }
    );
    this.target = ctx.servers[ctx.id % ctx.servers.length];
    this.sticky = kvVariant(ctx.variant) === "client-retries-same-server";
  }
  ctx;
  operations;
  target;
  /** The client-retries-same-server bug: a silent server is tried again and again. */
  sticky;
  onStart() {
    this.operations.start();
  }
  send(operation) {
    const { op, id } = operation;
    if (op.f === "get") {
      this.ctx.send(this.target, { type: "kv-get", id, key: op.key }, 32 + op.key.length);
    } else {
      const data = encodeCommand2({
        op: op.f,
        key: op.key,
        value: op.value,
        client: this.ctx.id,
        seq: operation.seq
      });
      this.ctx.send(this.target, { type: "propose", id, data }, 32 + data.length);
    }
    return true;
  }
  onMessage(from2, message) {
    const current = this.operations.current;
    const reply = message;
    if (current === null || reply.id !== current.id) {
      return;
    }
    switch (reply.type) {
      case "propose-ok":
        this.target = from2;
        this.operations.finish(null);
        this.ctx.observe({
          type: "kv-acked",
          f: current.op.f,
          key: current.op.key,
          value: current.op.f === "get" ? null : current.op.value,
          index: reply.index,
          term: reply.term
        });
        return;
      case "kv-get-ok":
        this.target = from2;
        this.operations.finish(reply.value);
        this.ctx.observe({
          type: "kv-read",
          key: current.op.key,
          valueChars: reply.value.length,
          index: reply.index
        });
        return;
      case "not-leader":
        this.target = reply.leaderHint ?? this.nextServer();
        this.retrySoon();
        return;
      case "request-failed":
        this.target = this.nextServer();
        this.retrySoon();
        return;
      default:
        return;
    }
  }
  /** After a refusal: to the hinted or next server, chosen when the refusal arrived. */
  retrySoon() {
    this.operations.cancelTimer();
    this.operations.retryAfter(REFUSED_RETRY_US);
  }
  /** Where to go after a server did not answer in time: the next one (the bug: the same). */
  afterSilence() {
    return this.sticky ? this.target : this.nextServer();
  }
  nextServer() {
    const servers = this.ctx.servers;
    const at2 = servers.indexOf(this.target);
    return servers[(at2 + 1) % servers.length];
  }
  onTimer(tag, timerId) {
    this.operations.onTimer(tag, timerId);
  }
  inspect() {
    return this.operations.inspect();
  }
};

// systems/kv/applied-reads.ts
var WAITING_MAX = 1024;
var STARTED_MAX = 4096;
var AppliedReads = class {
  constructor(raft, serve) {
    this.raft = raft;
    this.serve = serve;
  }
  raft;
  serve;
  /** Request id → request, for reads whose ReadIndex is under way. */
  started = /* @__PURE__ */ new Map();
  waiting = [];
  /** Starts a read for `client`'s request `id`. */
  start(client, id, request) {
    if (this.started.size >= STARTED_MAX) {
      this.started.delete(this.started.keys().next().value);
    }
    this.started.set(id, request);
    this.raft().onMessage(client, { type: "read", id });
  }
  /**
   * Takes the group's reply if it answers one of these reads (true), holding a `read-ok`
   * until the state machine catches up; any other reply to such a read goes to the client.
   */
  onReply(client, reply) {
    if (reply.type === "propose-ok") {
      return false;
    }
    const request = this.started.get(reply.id);
    if (request === void 0) {
      return false;
    }
    this.started.delete(reply.id);
    if (reply.type !== "read-ok") {
      this.raft().sendReply(client, reply);
      return true;
    }
    if (this.waiting.length >= WAITING_MAX) {
      this.waiting.shift();
    }
    this.waiting.push({ client, id: reply.id, request, index: reply.index });
    return true;
  }
  /** After every round of Readies: serve what the state machine has caught up with. */
  serveCaughtUp() {
    if (this.waiting.length === 0) {
      return;
    }
    const applied = this.raft().core.appliedIndex;
    const still = [];
    for (const read of this.waiting) {
      if (read.index <= applied) {
        this.serve(read.client, read.id, read.request, read.index);
      } else {
        still.push(read);
      }
    }
    this.waiting = still;
  }
};

// systems/kv/service-raft.ts
function serviceRaftGroup(ctx, stateMachine, raftOptions, reads) {
  const raft = new RaftGroup(ctx, {
    id: ctx.group,
    peers: ctx.members(ctx.group),
    filePrefix: "",
    stateMachine,
    options: {
      ...raftOptions,
      ...planRaftOptions(ctx.workload),
      bugs: bugsForVariant(ctx.variant)
    },
    onReply: (client, reply) => {
      if (!reads.onReply(client, reply)) {
        raft.sendReply(client, reply);
      }
    },
    afterProcess: () => reads.serveCaughtUp()
  });
  return raft;
}

// systems/kv/server.ts
var KvServer = class {
  constructor(ctx, raftOptions = {}) {
    this.ctx = ctx;
    const variant = kvVariant(ctx.variant);
    const kv = new KvStateMachine({
      dedup: variant !== "no-dedup",
      sessionsInSnapshot: variant !== "dedup-not-in-snapshot"
    });
    this.kv = kv;
    this.variant = variant;
    this.reads = new AppliedReads(
      () => this.raft,
      (client, id, key2, index) => this.answerGet(client, id, key2, index)
    );
    this.raft = serviceRaftGroup(ctx, kv, raftOptions, this.reads);
    kv.onDuplicate = (command) => ctx.observe({ type: "kv-duplicate-suppressed", client: command.client, seq: command.seq });
  }
  ctx;
  kv;
  raft;
  variant;
  /** Gets (their keys) between ReadIndex and apply. */
  reads;
  kvView;
  onStart() {
    this.raft.start();
  }
  onTimer(tag) {
    this.raft.onTimer(tag);
  }
  onSynced(syncId, ok) {
    this.raft.onSynced(syncId, ok);
  }
  onMessage(from2, message) {
    if (!this.raft.running) {
      return;
    }
    if (message.type === "kv-get") {
      this.onGet(from2, message);
      return;
    }
    if (message.type === "propose" && this.variant === "apply-before-commit") {
      this.proposeAndApplyAtOnce(from2, message);
      return;
    }
    this.raft.onMessage(from2, message);
  }
  onGet(client, request) {
    if (this.variant === "stale-follower-read") {
      const index = this.raft.core.appliedIndex;
      this.answerGet(client, request.id, request.key, index);
      return;
    }
    this.reads.start(client, request.id, request.key);
  }
  /** The apply-before-commit bug: apply on append, acknowledge before any follower has it. */
  proposeAndApplyAtOnce(client, message) {
    const core = this.raft.core;
    const before2 = core.lastIndex;
    this.raft.onMessage(client, message);
    const entry = core.entryAt(before2 + 1);
    if (core.role !== "leader" || entry === void 0 || entry.kind !== "command") {
      return;
    }
    const result = this.kv.apply(entry);
    this.raft.sendReply(client, {
      type: "propose-ok",
      id: message["id"],
      index: entry.index,
      term: entry.term,
      result
    });
  }
  answerGet(client, id, key2, index) {
    if (client < 0) {
      return;
    }
    const answer = { type: "kv-get-ok", id, value: this.kv.get(key2), index };
    this.ctx.send(client, answer, 48 + answer.value.length);
  }
  inspect() {
    const base = this.raft.inspect();
    if (base === void 0) {
      return void 0;
    }
    const raft = this.raft;
    this.kvView ??= Object.create(base, {
      kv: { value: { data: this.kv.data, sessions: this.kv.sessions }, enumerable: true },
      raftStateBytes: { get: () => raft.logBytes, enumerable: true },
      snapshotBytes: { get: () => raft.snapshotBytes, enumerable: true }
    });
    return this.kvView;
  }
};

// systems/kv/program.ts
function raftOptionsFor(options) {
  const max = options.maxRaftStateBytes ?? 0;
  const sizing = max > 0 ? {
    // A logged KV command costs about 100 bytes on disk with its batch and hard state.
    snapshotEveryEntries: Math.max(2, Math.floor(max / 400)),
    logRewriteBytes: max
  } : { snapshotEveryEntries: 0 };
  return { ...sizing, ...options.raft };
}
function kvGroups(servers, clients, options = {}) {
  const raft = raftOptionsFor(options);
  return serversAndClients(
    servers,
    clients,
    (context) => new KvServer(context, raft),
    (context) => new KvClient(context)
  );
}

// scenarios/kv.ts
var SECOND3 = 1e6;
var MAX_RAFT_STATE_BYTES = 4096;
var LEASE_DRIFT_PPM_MAX = 1e4;
var KV_ANSWER_BOUND_US = 1e6;
var KV_SWARM_GIVE_UP_US = 2 * SECOND3;
var KV_SWARM = {
  system: "kv",
  durationUs: 10 * SECOND3,
  settleUs: 5 * SECOND3,
  // Each seed draws its shape (pin any of it with --set; the old fixed shape was
  // durationUs=10000000 servers=5 clients=5 thinkUsMax=20000).
  shape: {
    // Not shorter: in 300 seeds of stale-follower-read and lease-renewed-on-send, none under
    // 1.5 s of faults failed (bench/shape-yield.ts); their cost is the settle phase's.
    durationUs: { min: 2 * SECOND3, max: 15 * SECOND3 },
    groupSizes: { servers: [3, 5], clients: [1, 2, 3, 4, 5] },
    workload: { thinkUsMax: { min: 2e3, max: 4e4 } }
  },
  faults: {
    // As in the raft scenario: durable corruption on a minority of the servers, which detect
    // it and refuse to start; latent sector errors stay out.
    eligible: FAULT_KINDS.filter((kind) => kind !== "latent-sector"),
    swarm: true
  },
  workload: {
    appendPercent: 45,
    putPercent: 10,
    sharedKeys: 3,
    thinkUsMax: 2e4,
    attemptTimeoutUs: 2e5,
    giveUpUs: KV_SWARM_GIVE_UP_US,
    // More than a client gets through in 15 s; explicit so that the shrinker can lower it.
    opsMax: 2e3,
    // Sync marks on (systems/raft/codec.ts): these disks rot. Plans kept from before it run
    // without, as they were recorded.
    syncMarks: true
  },
  shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    leaderStepsDownWithoutQuorum(plan, DEFAULT_RAFT_OPTIONS),
    leaderStaysWhileHealthy(DEFAULT_RAFT_OPTIONS),
    answersWhileMajorityReachable(plan, {
      group: "servers",
      boundUs: KV_ANSWER_BOUND_US,
      giveUpUs: plan.workload["giveUpUs"]
    }),
    ...kvInvariants(),
    kvPersistedStateBounded({ raftStateBytesMax: 8 * MAX_RAFT_STATE_BYTES }),
    // Liveness: once the faults have stopped for 2 s, operations complete again.
    kvOperationsComplete(plan.durationUs + 2 * SECOND3, plan.durationUs + plan.settleUs - SECOND3),
    kvEveryClientCompletes(plan)
  ],
  // The KV service never changes membership, so that Raft condition is not expected here.
  sometimes: {
    ...Object.fromEntries(
      Object.entries(raftSometimes).filter(([name]) => name !== "a membership change completed")
    ),
    ...kvSometimes,
    ...kvWorkloadSometimes,
    ...raftMediaFaultSometimes
  }
};
registerScenario({
  ...KV_SWARM,
  name: "kv",
  description: "3 or 5 KV servers on Raft with snapshots under every fault kind while 1\u20135 clients append, put and get; the history must be linearizable and every acknowledged Append land exactly once.",
  variants: KV_VARIANTS,
  groups: kvGroups(5, 5, { maxRaftStateBytes: MAX_RAFT_STATE_BYTES })
});
registerScenario({
  ...KV_SWARM,
  name: "kv-lease",
  description: `The kv swarm with Gets served under a leader lease (ReadIndex once it runs out), assuming clocks within \xB1${LEASE_DRIFT_PPM_MAX / 1e4} % of true time; the swarm's drift stays within \xB1${CLOCK_DRIFT_PPM_MAX / 1e4} %.`,
  variants: LEASE_VARIANTS,
  groups: kvGroups(5, 5, {
    maxRaftStateBytes: MAX_RAFT_STATE_BYTES,
    raft: { readMode: "lease", leaseDriftPpmMax: LEASE_DRIFT_PPM_MAX }
  }),
  sometimes: { ...KV_SWARM.sometimes, ...raftLeaseSometimes }
});

// scenarios/kv-mit.ts
var MS9 = 1e3;
var SECOND4 = 1e6;
function range(count2, from2 = 0) {
  return Array.from({ length: count2 }, (_, index) => from2 + index);
}
function partitioner(random, servers, rounds) {
  const faults5 = [];
  for (let round = 0; round < rounds.count; round++) {
    const startUs = round * rounds.lengthUs;
    const endUs = startUs + rounds.lengthUs - 100 * MS9;
    for (let atUs = startUs + 50 * MS9; atUs < endUs; ) {
      const shuffled = random.shuffle(range(servers));
      const half = Math.floor(servers / 2);
      const links = cutBetween(shuffled.slice(0, half), shuffled.slice(half));
      faults5.push({ atUs, kind: "partition", shape: "groups", links });
      atUs += random.between(100 * MS9, 200 * MS9) + random.between(0, 200 * MS9);
    }
    faults5.push({ atUs: endUs, kind: "heal" });
  }
  return faults5;
}
function restartAll(servers, rounds) {
  const faults5 = [];
  for (let round = 1; round <= rounds.count; round++) {
    const atUs = round * rounds.lengthUs - 60 * MS9;
    for (const node of range(servers)) {
      faults5.push({ atUs, kind: "crash", node });
      faults5.push({ atUs: atUs + 30 * MS9, kind: "restart", node });
    }
  }
  return faults5;
}
function defineGeneric(test) {
  const servers = test.servers ?? 5;
  const rounds = test.rounds ?? { count: 3, lengthUs: 1500 * MS9 };
  const durationUs = rounds.count * rounds.lengthUs;
  const maxRaftStateBytes = test.maxRaftStateBytes ?? 0;
  const faults5 = [
    test.unreliable ? "unreliable network" : "",
    test.partitions ? "partitions" : "",
    test.crash ? "restarts" : "",
    maxRaftStateBytes > 0 ? `snapshots (maxraftstate ${maxRaftStateBytes})` : ""
  ].filter((part) => part !== "");
  registerScenario({
    name: test.name,
    description: `MIT ${test.ports}: ${servers} servers, ${test.clients} client${test.clients === 1 ? "" : "s"}${faults5.length > 0 ? `, ${faults5.join(", ")}` : ", no faults"}.`,
    system: "kv",
    durationUs,
    settleUs: 3 * SECOND4,
    faults: { eligible: [], swarm: false },
    workload: {
      appendPercent: test.randomKeys ? 40 : 50,
      putPercent: test.randomKeys ? 10 : 0,
      sharedKeys: test.randomKeys ? 5 : 0,
      thinkUsMax: 5 * MS9,
      attemptTimeoutUs: 150 * MS9,
      giveUpUs: 0,
      // MIT's Clerk retries until it succeeds
      ...test.workload
    },
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: KV_VARIANTS,
    groups: kvGroups(servers, test.clients, { maxRaftStateBytes }),
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...kvInvariants(),
      kvOperationsComplete(0, plan.durationUs),
      maxRaftStateBytes > 0 ? kvPersistedStateBounded({ raftStateBytesMax: 8 * maxRaftStateBytes }) : kvPersistedStateBounded({ snapshotBytesMax: 0 }),
      ...test.extraInvariants?.(plan) ?? []
    ],
    sometimes: kvSometimes,
    plan: (seed, base) => {
      const random = Random.fromSeed(seed).fork("mit-faults");
      return {
        ...base,
        knobs: test.unreliable ? unreliableKnobs(base.knobs) : base.knobs,
        faults: [
          ...test.partitions ? partitioner(random.fork("partitions"), servers, rounds) : [],
          ...test.crash ? restartAll(servers, rounds) : []
        ]
      };
    }
  });
}
defineGeneric({ name: "kv-mit-basic", ports: "TestBasic4A", clients: 1 });
defineGeneric({ name: "kv-mit-concurrent", ports: "TestConcurrent4A", clients: 5 });
defineGeneric({
  name: "kv-mit-unreliable",
  ports: "TestUnreliable4A",
  clients: 5,
  unreliable: true
});
defineGeneric({
  name: "kv-mit-unreliable-one-key",
  ports: "TestUnreliableOneKey4A",
  clients: 5,
  unreliable: true,
  // Each client appends 10 times to the one key "k"; every append exactly once, in order.
  workload: { appendPercent: 100, appendKeys: "one", opsMax: 10 },
  rounds: { count: 1, lengthUs: 2 * SECOND4 },
  extraInvariants: () => [kvAppendsContendOnOneKey(ONE_KEY)]
});
defineGeneric({
  name: "kv-mit-many-partitions",
  ports: "TestManyPartitionsManyClients4A",
  clients: 5,
  partitions: true
});
defineGeneric({
  name: "kv-mit-persist",
  ports: "TestPersistConcurrent4A",
  clients: 5,
  crash: true
});
defineGeneric({
  name: "kv-mit-persist-partition-unreliable",
  ports: "TestPersistPartitionUnreliable4A",
  clients: 5,
  unreliable: true,
  partitions: true,
  crash: true
});
defineGeneric({
  name: "kv-mit-persist-partition-unreliable-linearizable",
  ports: "TestPersistPartitionUnreliableLinearizable4A",
  servers: 7,
  clients: 15,
  unreliable: true,
  partitions: true,
  crash: true,
  randomKeys: true
});
defineGeneric({
  name: "kv-mit-snapshot-recover",
  ports: "TestSnapshotRecover4B",
  clients: 1,
  crash: true,
  maxRaftStateBytes: 1e3
});
defineGeneric({
  name: "kv-mit-snapshot-recover-many-clients",
  ports: "TestSnapshotRecoverManyClients4B",
  clients: 20,
  crash: true,
  maxRaftStateBytes: 1e3
});
defineGeneric({
  name: "kv-mit-snapshot-unreliable",
  ports: "TestSnapshotUnreliable4B",
  clients: 5,
  unreliable: true,
  maxRaftStateBytes: 1e3
});
defineGeneric({
  name: "kv-mit-snapshot-unreliable-recover-partition",
  ports: "TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B",
  servers: 7,
  clients: 15,
  unreliable: true,
  partitions: true,
  crash: true,
  maxRaftStateBytes: 1e3,
  randomKeys: true
});
for (const [name, ports, maxRaftStateBytes] of [
  ["kv-mit-speed", "TestSpeed4A", 0],
  ["kv-mit-speed-snapshots", "TestSpeed4B", 1e3]
]) {
  defineGeneric({
    name,
    ports,
    clients: 1,
    maxRaftStateBytes,
    rounds: { count: 1, lengthUs: 20 * SECOND4 },
    workload: { appendPercent: 100, opsMax: 1e3, thinkUsMax: 1 }
  });
}
function scriptWorkload(scripts) {
  const workload = {};
  for (const [client, script5] of scripts.entries()) {
    workload[scriptKey(client)] = JSON.stringify(script5);
  }
  return workload;
}
function finalValue(view, key2) {
  let best;
  for (const node of view.servers) {
    const state = kvServerState(view, node);
    if (state !== void 0 && (best === void 0 || state.appliedIndex > best.appliedIndex)) {
      best = state;
    }
  }
  return best === void 0 ? void 0 : best.kv.data.get(key2) ?? "";
}
function completedBy(view, client) {
  return view.history.filter((op) => op.client === client).map((op) => op.returnUs !== void 0);
}
{
  const [c1, c2, c3] = [5, 6, 7];
  const minority = [0, 1, c2, c3];
  const majority2 = [2, 3, 4, c1];
  const op = (atUs, kvOp) => ({ atUs, op: kvOp });
  const script5 = [
    { atUs: 10 * MS9, kind: "inject", node: 0, message: { type: "campaign" } },
    { atUs: 450 * MS9, kind: "check", check: "n1 leads" },
    { atUs: 1900 * MS9, kind: "check", check: "only the majority made progress" },
    { atUs: 4900 * MS9, kind: "check", check: "after healing everything completed" }
  ];
  registerScenario({
    name: "kv-mit-one-partition",
    description: "MIT TestOnePartition4A: the leader lands in a 2-server minority; only the majority makes progress, the minority completes after healing.",
    system: "kv",
    durationUs: 5 * SECOND4,
    settleUs: SECOND4,
    faults: { eligible: [], swarm: false },
    workload: {
      attemptTimeoutUs: 100 * MS9,
      giveUpUs: 0,
      ...scriptWorkload([
        [
          op(300 * MS9, { f: "put", key: "1", value: "13" }),
          op(600 * MS9, { f: "put", key: "1", value: "14" })
        ],
        [op(700 * MS9, { f: "put", key: "1", value: "15" })],
        [op(700 * MS9, { f: "get", key: "1" })]
      ])
    },
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: KV_VARIANTS,
    groups: kvGroups(5, 3),
    invariants: () => [...raftSafetyInvariants(), ...kvInvariants()],
    checks: {
      "n1 leads": (view) => serverState(view, 0)?.role === "leader" ? void 0 : "the script did not make n1 leader",
      "only the majority made progress": (view) => {
        const [put13, put14] = completedBy(view, c1);
        if (!(put13 && put14)) {
          return "the majority side should have completed its Puts while the minority was cut off";
        }
        if (completedBy(view, c2)[0] || completedBy(view, c3)[0]) {
          return "an operation completed on the minority side of a partition: a minority must not serve Puts or Gets";
        }
        return void 0;
      },
      "after healing everything completed": (view) => {
        if (!(completedBy(view, c2)[0] && completedBy(view, c3)[0])) {
          return "the minority operations did not complete after the partition healed";
        }
        const value = finalValue(view, "1");
        return value === "15" ? void 0 : `the final value of "1" should be the minority's Put "15", found ${JSON.stringify(value)}`;
      }
    },
    plan: (_seed, base) => ({
      ...base,
      faults: [
        {
          atUs: 500 * MS9,
          kind: "partition",
          shape: "groups",
          links: cutBetween(minority, majority2)
        },
        { atUs: 2e3 * MS9, kind: "heal" }
      ],
      script: script5.map((step) => ({ ...step }))
    })
  });
}
{
  const MAX = 1e3;
  const puts = range(50).map((i) => ({
    atUs: 300 * MS9,
    op: { f: "put", key: String(i), value: String(i) }
  }));
  const clientScript = [
    { atUs: 300 * MS9, op: { f: "put", key: "a", value: "A" } },
    ...puts,
    { atUs: 300 * MS9, op: { f: "get", key: "a" } },
    { atUs: 3200 * MS9, op: { f: "put", key: "b", value: "B" } },
    { atUs: 3200 * MS9, op: { f: "get", key: "a" } },
    { atUs: 3200 * MS9, op: { f: "get", key: "b" } },
    { atUs: 5200 * MS9, op: { f: "put", key: "c", value: "C" } },
    { atUs: 5200 * MS9, op: { f: "get", key: "c" } },
    { atUs: 5200 * MS9, op: { f: "get", key: "49" } }
  ];
  registerScenario({
    name: "kv-mit-snapshot-rpc",
    description: "MIT TestSnapshotRPC4B: a majority trims its log by snapshots; a lagging server catches up through InstallSnapshot.",
    system: "kv",
    durationUs: 6 * SECOND4,
    settleUs: SECOND4,
    faults: { eligible: [], swarm: false },
    workload: { attemptTimeoutUs: 100 * MS9, giveUpUs: 0, ...scriptWorkload([clientScript]) },
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: KV_VARIANTS,
    groups: kvGroups(3, 1, { maxRaftStateBytes: MAX }),
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...kvInvariants(),
      kvOperationsComplete(0, plan.durationUs),
      kvPersistedStateBounded({ raftStateBytesMax: 8 * MAX })
    ],
    sometimes: kvSometimes,
    checks: {
      "the majority trimmed its log": (view) => {
        const trimmed = [0, 1].every((node) => (kvServerState(view, node)?.snapshotIndex ?? 0) > 0);
        return trimmed ? void 0 : "after 50 Puts n1 and n2 should both have taken a snapshot";
      },
      "n3 caught up through InstallSnapshot": (view) => (kvServerState(view, 2)?.snapshotIndex ?? 0) > 0 ? void 0 : "n3 should have installed a snapshot from the leader",
      "the values are all there": (view) => {
        const expected = [
          ["a", "A"],
          ["b", "B"],
          ["c", "C"],
          ...range(50).map((i) => [String(i), String(i)])
        ];
        for (const [key2, value] of expected) {
          const found = finalValue(view, key2);
          if (found !== value) {
            return `key ${JSON.stringify(key2)} should hold ${JSON.stringify(value)}, found ${JSON.stringify(found)}`;
          }
        }
        return void 0;
      }
    },
    plan: (_seed, base) => ({
      ...base,
      faults: [
        { atUs: 0, kind: "partition", shape: "isolate", links: cutBetween([0, 1], [2]) },
        { atUs: 3100 * MS9, kind: "partition", shape: "isolate", links: cutBetween([0, 2], [1]) },
        { atUs: 5100 * MS9, kind: "heal" }
      ],
      script: [
        { atUs: 3e3 * MS9, kind: "check", check: "the majority trimmed its log" },
        { atUs: 5e3 * MS9, kind: "check", check: "n3 caught up through InstallSnapshot" },
        { atUs: 5900 * MS9, kind: "check", check: "the values are all there" }
      ]
    })
  });
}
{
  const MAX = 1e3;
  const cycle = [
    { f: "put", key: "x", value: "0" },
    { f: "get", key: "x" },
    { f: "put", key: "x", value: "1" },
    { f: "get", key: "x" }
  ];
  registerScenario({
    name: "kv-mit-snapshot-size",
    description: "MIT TestSnapshotSize4B: 800 operations on one key with maxraftstate 1000; the log stays under 8000 bytes and the snapshot under 500.",
    system: "kv",
    durationUs: 15 * SECOND4,
    settleUs: SECOND4,
    faults: { eligible: [], swarm: false },
    workload: { [CYCLE_KEY]: JSON.stringify(cycle), opsMax: 800, thinkUsMax: 1, giveUpUs: 0 },
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: KV_VARIANTS,
    groups: kvGroups(5, 1, { maxRaftStateBytes: MAX }),
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...kvInvariants(),
      kvOperationsComplete(0, plan.durationUs),
      kvPersistedStateBounded({ raftStateBytesMax: 8 * MAX, snapshotBytesMax: 500 })
    ],
    sometimes: kvSometimes
  });
}

// scenarios/raft-multi.ts
var SECOND5 = 1e6;
var RAFT_GROUPS = ["g1", "g2", "g3"];
var SERVERS_PER_GROUP = 3;
var CLIENTS_PER_GROUP = 2;
var clientGroup = (group) => `${group}-clients`;
function perRaftGroup(raftGroups2) {
  return {
    groups: raftGroups2,
    clientsOf: (view, group) => view.members(clientGroup(group))
  };
}
function raftPerGroupInvariants(plan, perGroup3) {
  return [
    ...raftSafetyInvariants(perGroup3),
    raftLivenessInvariant({
      ...perGroup3,
      settleStartUs: plan.durationUs,
      commitWithinUs: 3 * SECOND5
    }),
    raftVotersCatchUp(perGroup3),
    leaderStaysWhileHealthy({ ...perGroup3, electionTicks: DEFAULT_RAFT_OPTIONS.electionTicks })
  ];
}
var server = raftServer({ snapshotEveryEntries: 200, logRewriteBytes: 32 * 1024 });
var groups = [
  ...RAFT_GROUPS.map(
    (group) => ({
      name: group,
      size: SERVERS_PER_GROUP,
      prefix: `${group}n`,
      program: server
    })
  ),
  ...RAFT_GROUPS.map(
    (group) => ({
      name: clientGroup(group),
      size: CLIENTS_PER_GROUP,
      prefix: `${group}c`,
      client: true,
      program: raftClient({ group })
    })
  )
];
var perGroup = perRaftGroup(RAFT_GROUPS);
registerScenario({
  name: "raft-multi",
  description: "Three Raft groups of three servers with two clients each, every fault kind and group-aware partitions; safety per group always, a leader and fresh commits in every group after settle.",
  system: "raft",
  groups,
  durationUs: 10 * SECOND5,
  // Each seed draws its fault phase, as `raft` does (pin with --set durationUs=10000000).
  shape: { durationUs: { min: SECOND5 / 2, max: 15 * SECOND5 } },
  settleUs: 5 * SECOND5,
  // As in `raft`; the media-fault atlas picks a minority of each group's servers.
  faults: RAFT_SWARM_FAULTS,
  // Sync marks on, as in `raft`: these disks rot. Plans kept from before run without.
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  invariants: (plan) => raftPerGroupInvariants(plan, perGroup),
  sometimes: { ...raftSometimes, ...raftClientSometimes, ...raftMediaFaultSometimes },
  plan: (seed, base) => ({
    ...base,
    script: RAFT_GROUPS.flatMap((group) => membershipChurn(seed, base, group))
  })
});

// scenarios/raft-colocated.ts
var SECOND6 = 1e6;
var RAFT_GROUPS2 = ["g1", "g2", "g3"];
var SERVERS = "servers";
var groups2 = [
  {
    name: SERVERS,
    size: 5,
    prefix: "n",
    program: raftMultiServer(RAFT_GROUPS2, {
      snapshotEveryEntries: 200,
      logRewriteBytes: 32 * 1024
    })
  },
  ...RAFT_GROUPS2.map(
    (group) => ({
      name: clientGroup(group),
      size: 2,
      prefix: `${group}c`,
      client: true,
      program: raftClient({ group: SERVERS, raftGroup: group })
    })
  )
];
var perGroup2 = perRaftGroup(RAFT_GROUPS2);
registerScenario({
  name: "raft-colocated",
  description: "Three Raft groups hosted together on 3 or 5 servers (multi-Raft), 1\u20132 clients each, every fault kind, 0.5\u201315 s of faults; safety per group always, a leader and fresh commits in every group after settle.",
  system: "raft",
  groups: groups2,
  durationUs: 10 * SECOND6,
  settleUs: 5 * SECOND6,
  shape: {
    durationUs: { min: SECOND6 / 2, max: 15 * SECOND6 },
    groupSizes: {
      [SERVERS]: [3, 5],
      ...Object.fromEntries(RAFT_GROUPS2.map((group) => [clientGroup(group), [1, 2]]))
    },
    workload: RAFT_CLIENT_PACE
  },
  // As in `raft`: media faults hit a minority of the servers, and so of every group.
  faults: RAFT_SWARM_FAULTS,
  workload: { syncMarks: true },
  variants: RAFT_VARIANTS,
  invariants: (plan) => raftPerGroupInvariants(plan, perGroup2),
  sometimes: RAFT_SWARM_SOMETIMES,
  plan: (seed, base) => ({
    ...base,
    script: RAFT_GROUPS2.flatMap(
      (group) => membershipChurn(seed, base, SERVERS, group)
    )
  })
});

// systems/kafka/contract.ts
function kafkaInput(input) {
  if (typeof input !== "object" || input === null) {
    return void 0;
  }
  const record2 = input;
  switch (record2["f"]) {
    case "send":
      return typeof record2["key"] === "string" && Number.isSafeInteger(record2["value"]) ? record2 : void 0;
    case "poll":
      return { f: "poll" };
    case "assign":
    case "subscribe":
    case "list_committed_offsets":
      return Array.isArray(record2["keys"]) ? record2 : void 0;
    case "commit_offsets":
      return typeof record2["offsets"] === "object" && record2["offsets"] !== null ? record2 : void 0;
    default:
      return void 0;
  }
}
function sendOffset(op) {
  if (op.status !== "ok") {
    return void 0;
  }
  const offset = op.output?.offset;
  return Number.isSafeInteger(offset) ? offset : void 0;
}
function pollResult(op) {
  if (op.status !== "ok") {
    return void 0;
  }
  const output = op.output;
  if (output?.msgs === void 0 || typeof output.msgs !== "object") {
    return void 0;
  }
  return { msgs: output.msgs, assignment: output.assignment ?? 0 };
}
function brokerState(view, node) {
  const inspected = view.inspect(node);
  return inspected?.role === "broker" ? inspected : void 0;
}
function corruptionDetected(observation) {
  return observation.type === "kafka-corruption-detected" ? observation : void 0;
}
function logStartAdvanced(observation) {
  return observation.type === "kafka-log-start-advanced" ? observation : void 0;
}
function offsetCommitted(observation) {
  return observation.type === "kafka-offset-committed" ? observation : void 0;
}
function groupAssignment(observation) {
  return observation.type === "kafka-group-assignment" ? observation : void 0;
}

// invariants/kafka-brokers.ts
var HW_COMPARE_OFFSETS = 2;
function oneLeaderPerEpoch() {
  const leaders = /* @__PURE__ */ new Map();
  return {
    name: "kafka-one-leader-per-epoch",
    onObservation(record2, view) {
      if (record2.observation.type !== "kafka-became-leader") {
        return void 0;
      }
      const observation = record2.observation;
      const { key: key2, leaderEpoch: epoch, latestLogEpoch: logEpoch } = observation;
      if (logEpoch > epoch) {
        return `partition ${key2}: ${view.name(record2.node)} became leader in epoch ${epoch} with records of epoch ${logEpoch} in its log`;
      }
      const slot = `${key2}\0${epoch}`;
      const known = leaders.get(slot);
      if (known === void 0) {
        leaders.set(slot, {
          node: record2.node,
          timeUs: record2.timeUs,
          session: observation.session
        });
        return void 0;
      }
      if (known.node === record2.node) {
        if (known.session === observation.session || !observation.fencesRestarts) {
          return void 0;
        }
        return `partition ${key2}: ${view.name(record2.node)} became leader in epoch ${epoch} at ${known.timeUs} \xB5s, restarted, and led epoch ${epoch} again at ${record2.timeUs} \xB5s: a restarted leader must not resume an epoch (its unsynced tail is gone, its followers may hold records of that epoch it lacks)`;
      }
      return `partition ${key2}: ${view.name(known.node)} became leader in epoch ${epoch} at ${known.timeUs} \xB5s, and ${view.name(record2.node)} became leader in the same epoch at ${record2.timeUs} \xB5s`;
    }
  };
}
function damagedDisk(view, node) {
  return (view.storedDamage?.(node) ?? 0) > 0;
}
function leaderEpochsNeverDecrease() {
  const decided = /* @__PURE__ */ new Map();
  const led = /* @__PURE__ */ new Map();
  return {
    name: "kafka-leader-epochs-never-decrease",
    observes: ["kafka-partition-state", "kafka-became-leader"],
    onObservation(record2, view) {
      if (record2.observation.type === "kafka-became-leader") {
        const became = record2.observation;
        const slot = `${record2.node}\0${became.session}\0${became.key}`;
        const before2 = led.get(slot);
        if (before2 !== void 0 && became.leaderEpoch < before2) {
          return `partition ${became.key}: ${view.name(record2.node)} led epoch ${before2} and then, in the same session, became leader in the older epoch ${became.leaderEpoch} at ${record2.timeUs} \xB5s`;
        }
        led.set(slot, became.leaderEpoch);
        return void 0;
      }
      if (record2.observation.type !== "kafka-partition-state") {
        return void 0;
      }
      const state = record2.observation;
      let states = decided.get(state.key);
      if (states === void 0) {
        states = [];
        decided.set(state.key, states);
      }
      const known = states[state.partitionEpoch];
      if (known !== void 0) {
        if (known.leaderEpoch !== state.leaderEpoch || known.leader !== state.leader || known.isr.join() !== state.isr.join()) {
          return `partition ${state.key}, partition epoch ${state.partitionEpoch}: ${view.name(record2.node)} applied leader ${state.leader} in epoch ${state.leaderEpoch} with ISR [${state.isr.join(", ")}], where another controller applied leader ${known.leader} in epoch ${known.leaderEpoch} with ISR [${known.isr.join(", ")}]: the metadata log decided one change twice`;
        }
        return void 0;
      }
      states[state.partitionEpoch] = state;
      let below = state.partitionEpoch - 1;
      while (below >= 0 && states[below] === void 0) {
        below--;
      }
      let above = state.partitionEpoch + 1;
      while (above < states.length && states[above] === void 0) {
        above++;
      }
      const lower = below >= 0 ? states[below] : void 0;
      const upper = above < states.length ? states[above] : void 0;
      if (lower !== void 0 && lower.leaderEpoch > state.leaderEpoch) {
        return `partition ${state.key}: leader epoch ${lower.leaderEpoch} at partition epoch ${below}, then the older leader epoch ${state.leaderEpoch} at partition epoch ${state.partitionEpoch} (${view.name(record2.node)}): leader epochs must never decrease`;
      }
      if (upper !== void 0 && upper.leaderEpoch < state.leaderEpoch) {
        return `partition ${state.key}: leader epoch ${state.leaderEpoch} at partition epoch ${state.partitionEpoch} (${view.name(record2.node)}), but the later partition epoch ${above} has the older leader epoch ${upper.leaderEpoch}: leader epochs must never decrease`;
      }
      return void 0;
    }
  };
}
function highWatermarkWithinIsr() {
  const decided = /* @__PURE__ */ new Map();
  return {
    name: "kafka-hw-within-isr",
    onObservation(record2, view) {
      const observation = record2.observation;
      if (observation.type === "kafka-partition-state") {
        const state = observation;
        const slot = `${state.key}\0${state.leaderEpoch}`;
        if (state.partitionEpoch > (decided.get(slot)?.partitionEpoch ?? -1)) {
          decided.set(slot, { partitionEpoch: state.partitionEpoch, isr: state.isr });
        }
        return void 0;
      }
      if (observation.type !== "kafka-hw") {
        return void 0;
      }
      const key2 = observation["key"];
      const leader = brokerState(view, record2.node)?.partitions.get(key2);
      if (leader === void 0 || leader.role !== "leader") {
        return void 0;
      }
      const hw = leader.highWatermark;
      const members = new Set(leader.isr);
      for (const node of decided.get(`${key2}\0${leader.leaderEpoch}`)?.isr ?? []) {
        members.add(node);
      }
      for (const node of members) {
        if (node === record2.node || !view.isUp(node)) {
          continue;
        }
        const member = brokerState(view, node)?.partitions.get(key2);
        if (member === void 0 || member.leaderEpoch > leader.leaderEpoch) {
          continue;
        }
        if (member.logEndOffset < hw) {
          return `partition ${key2}: leader ${view.name(record2.node)} (epoch ${leader.leaderEpoch}) advanced its high watermark to ${hw}, but ISR member ${view.name(node)} holds the log only to ${member.logEndOffset}`;
        }
        if (damagedDisk(view, record2.node) || damagedDisk(view, node)) {
          continue;
        }
        for (let offset = Math.max(
          member.logStartOffset,
          leader.logStartOffset,
          hw - HW_COMPARE_OFFSETS
        ); offset < hw; offset++) {
          const mine = leader.valueAt(offset);
          const theirs = member.valueAt(offset);
          if (mine !== theirs) {
            return `partition ${key2}: below leader ${view.name(record2.node)}'s high watermark ${hw}, offset ${offset} holds ${mine} there and ${theirs} on ISR member ${view.name(node)}`;
          }
        }
      }
      return void 0;
    }
  };
}
function brokerDamageOnlyOnMediaFault() {
  return {
    name: "kafka-damage-only-on-media-fault",
    observes: ["kafka-corruption-detected"],
    onObservation(record2, view) {
      const found = corruptionDetected(record2.observation);
      if (found === void 0) {
        return void 0;
      }
      if (view.mediaFaults === void 0 || view.mediaFaults(record2.node) > 0) {
        return void 0;
      }
      return `${view.name(record2.node)} found partition ${found.key}'s durable records damaged at ${record2.timeUs} \xB5s (${found.reason}), yet no media fault ever hit its disk: recovery misread its own files`;
    }
  };
}
function offlineAfterMediaFaults(view, observations) {
  const damagedKeys = /* @__PURE__ */ new Set();
  const newest = /* @__PURE__ */ new Map();
  for (const record2 of observations) {
    const observation = record2.observation;
    const found = corruptionDetected(observation);
    if (found !== void 0) {
      if ((view.mediaFaults?.(record2.node) ?? 0) > 0) {
        damagedKeys.add(found.key);
      }
    } else if (observation.type === "kafka-partition-state") {
      const state = observation;
      if (state.partitionEpoch > (newest.get(state.key)?.partitionEpoch ?? -1)) {
        newest.set(state.key, state);
      }
    }
  }
  const offline = /* @__PURE__ */ new Set();
  for (const key2 of damagedKeys) {
    const state = newest.get(key2);
    if (state !== void 0 && state.leader === -1 && state.isr.length === 0) {
      offline.add(key2);
    }
  }
  return offline;
}
function kafkaBrokerInvariants() {
  return [
    oneLeaderPerEpoch(),
    leaderEpochsNeverDecrease(),
    highWatermarkWithinIsr(),
    brokerDamageOnlyOnMediaFault()
  ];
}

// invariants/kafka-groups.ts
function lowerBound(list3, logOffset) {
  let low = 0;
  let high = list3.length;
  while (low < high) {
    const middle = low + high >>> 1;
    if (list3[middle].logOffset < logOffset) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
function committedOffsetsMonotonic() {
  const seen = /* @__PURE__ */ new Map();
  const describe3 = (entry) => `${entry.offset} (by member ${entry.member}, generation ${entry.generation}, record ${entry.logOffset})`;
  return {
    name: "kafka-committed-offsets-monotonic",
    onObservation(record2) {
      const observed = offsetCommitted(record2.observation);
      if (observed === void 0) {
        return void 0;
      }
      const slot = `${observed.group}\0${observed.key}`;
      let list3 = seen.get(slot);
      if (list3 === void 0) {
        list3 = [];
        seen.set(slot, list3);
      }
      const entry = {
        logOffset: observed.logOffset,
        offset: observed.offset,
        generation: observed.generation,
        member: observed.member
      };
      const at2 = lowerBound(list3, entry.logOffset);
      const same = list3[at2];
      if (same !== void 0 && same.logOffset === entry.logOffset) {
        if (same.offset !== entry.offset || same.member !== entry.member) {
          return `group ${observed.group} key ${observed.key}: offsets-partition record ${entry.logOffset} committed ${describe3(same)} on one coordinator and ${describe3(entry)} on another`;
        }
        return void 0;
      }
      const before2 = list3[at2 - 1];
      const after = list3[at2];
      list3.splice(at2, 0, entry);
      if (before2 !== void 0 && before2.offset > entry.offset) {
        return `group ${observed.group} key ${observed.key}: the committed offset went back from ${describe3(before2)} to ${describe3(entry)}`;
      }
      if (after !== void 0 && entry.offset > after.offset) {
        return `group ${observed.group} key ${observed.key}: the committed offset went back from ${describe3(entry)} to ${describe3(after)}`;
      }
      return void 0;
    }
  };
}
function oneOwnerPerGeneration() {
  const owners = /* @__PURE__ */ new Map();
  return {
    name: "kafka-one-owner-per-generation",
    onObservation(record2) {
      const observed = groupAssignment(record2.observation);
      if (observed === void 0) {
        return void 0;
      }
      for (const key2 of observed.keys) {
        const slot = `${observed.group}\0${observed.generation}\0${key2}`;
        const known = owners.get(slot);
        if (known === void 0) {
          owners.set(slot, {
            member: observed.member,
            consumer: observed.consumer,
            timeUs: record2.timeUs
          });
        } else if (known.member !== observed.member) {
          return `group ${observed.group} generation ${observed.generation}: key ${key2} was assigned to member ${known.member} (${known.consumer}, at ${known.timeUs} \xB5s) and to member ${observed.member} (${observed.consumer}, at ${record2.timeUs} \xB5s)`;
        }
      }
      return void 0;
    }
  };
}
function kafkaGroupInvariants() {
  return [committedOffsetsMonotonic(), oneOwnerPerGeneration()];
}

// systems/kafka/messages.ts
var PRODUCE_RECORDS_MAX = 16;
var OFFSETS_KEY = "__consumer_offsets";
var DEFAULT_KAFKA_CONFIG = {
  keys: ["k0", "k1", "k2"],
  replicationFactor: 3,
  minInsyncReplicas: 2,
  acks: "all",
  uncleanElection: false,
  leaderEpochs: true,
  fsyncBeforeAck: true,
  heartbeatUs: 5e4,
  sessionTimeoutUs: 4e5,
  replicaLagMaxUs: 3e5,
  fetchIntervalUs: 2e4,
  requestTimeoutUs: 5e5,
  consumerGroups: false,
  groupSessionTimeoutUs: 6e5,
  rebalanceTimeoutUs: 6e5,
  segmentBytes: 16 * 1024,
  retentionBytes: 0,
  compactOffsets: false,
  recoveryPoints: false,
  eligibleLeaderReplicas: false
};
function kafkaConfig(workload) {
  const number = (name, fallback) => typeof workload[name] === "number" ? workload[name] : fallback;
  const partitions = number("keys", DEFAULT_KAFKA_CONFIG.keys.length);
  return {
    keys: Array.from({ length: partitions }, (_, at2) => `k${at2}`),
    replicationFactor: number("replicationFactor", DEFAULT_KAFKA_CONFIG.replicationFactor),
    minInsyncReplicas: number("minInsyncReplicas", DEFAULT_KAFKA_CONFIG.minInsyncReplicas),
    acks: workload["acks"] === "1" ? "1" : "all",
    uncleanElection: workload["uncleanElection"] === true,
    leaderEpochs: workload["leaderEpochs"] !== false,
    fsyncBeforeAck: workload["fsyncBeforeAck"] !== false,
    heartbeatUs: number("heartbeatUs", DEFAULT_KAFKA_CONFIG.heartbeatUs),
    sessionTimeoutUs: number("sessionTimeoutUs", DEFAULT_KAFKA_CONFIG.sessionTimeoutUs),
    replicaLagMaxUs: number("replicaLagMaxUs", DEFAULT_KAFKA_CONFIG.replicaLagMaxUs),
    fetchIntervalUs: number("fetchIntervalUs", DEFAULT_KAFKA_CONFIG.fetchIntervalUs),
    requestTimeoutUs: number("requestTimeoutUs", DEFAULT_KAFKA_CONFIG.requestTimeoutUs),
    consumerGroups: workload["consumerGroups"] === true,
    groupSessionTimeoutUs: number(
      "groupSessionTimeoutUs",
      DEFAULT_KAFKA_CONFIG.groupSessionTimeoutUs
    ),
    rebalanceTimeoutUs: number("rebalanceTimeoutUs", DEFAULT_KAFKA_CONFIG.rebalanceTimeoutUs),
    segmentBytes: number("segmentBytes", DEFAULT_KAFKA_CONFIG.segmentBytes),
    retentionBytes: number("retentionBytes", DEFAULT_KAFKA_CONFIG.retentionBytes),
    compactOffsets: workload["compactOffsets"] === true,
    recoveryPoints: workload["recoveryPoints"] === true,
    eligibleLeaderReplicas: workload["eligibleLeaderReplicas"] === true
  };
}
function partitionLayout(config, brokers) {
  const factor = Math.min(config.replicationFactor, brokers.length);
  return config.keys.map((key2, at2) => ({
    key: key2,
    replicas: Array.from(
      { length: factor },
      (_, step) => brokers[(at2 + step) % brokers.length]
    )
  }));
}
function allPartitionsLayout(config, brokers) {
  const layout = partitionLayout(config, brokers);
  if (config.consumerGroups) {
    const factor = Math.min(config.replicationFactor, brokers.length);
    const at2 = config.keys.length;
    layout.push({
      key: OFFSETS_KEY,
      replicas: Array.from(
        { length: factor },
        (_, step) => brokers[(at2 + step) % brokers.length]
      )
    });
  }
  return layout;
}
var encoder4 = new TextEncoder();
var decoder3 = new TextDecoder();
function encodeValue(value) {
  return encoder4.encode(String(value));
}
function decodeValue(payload) {
  return Number(decoder3.decode(payload));
}
function payloadText(payload) {
  return decoder3.decode(payload);
}
function textPayload(text) {
  return encoder4.encode(text);
}

// invariants/kafka-history.ts
var KAFKA_ANOMALIES = [
  "G1a",
  "lost-write",
  "inconsistent-offsets",
  "duplicate",
  "nonmonotonic-send",
  "poll-skip",
  "nonmonotonic-poll",
  "int-poll-skip",
  "int-nonmonotonic-poll",
  "unseen"
];
var LISTED_MAX = 8;
var PartitionLog = class {
  /** offset → the values seen there (from acknowledged sends and from polls). */
  values = /* @__PURE__ */ new Map();
  /** Filled by seal(): the offsets holding something, ascending, and offset → position. */
  offsets = [];
  indexOf = /* @__PURE__ */ new Map();
  /** value → every offset it was seen at, ascending. */
  offsetsOf = /* @__PURE__ */ new Map();
  /** Values some ok poll returned. */
  read = /* @__PURE__ */ new Set();
  /** Who acknowledged at or polled a value: its sender, or else its first reader. */
  seenBy = /* @__PURE__ */ new Map();
  add(offset, value, op) {
    let at2 = this.values.get(offset);
    if (at2 === void 0) {
      at2 = /* @__PURE__ */ new Set();
      this.values.set(offset, at2);
    }
    at2.add(value);
    if (!this.seenBy.has(value)) {
      this.seenBy.set(value, op);
    }
  }
  seal() {
    this.offsets = [...this.values.keys()].sort((a, b) => a - b);
    for (const [index, offset] of this.offsets.entries()) {
      this.indexOf.set(offset, index);
      for (const value of this.values.get(offset)) {
        const list3 = this.offsetsOf.get(value);
        if (list3 === void 0) {
          this.offsetsOf.set(value, [offset]);
        } else {
          list3.push(offset);
        }
      }
    }
  }
  index(offset) {
    return this.indexOf.get(offset);
  }
  /** The offsets strictly between two dense positions. */
  between(fromIndex, toIndex) {
    return this.offsets.slice(fromIndex + 1, toIndex);
  }
  /** One value at each offset (the lowest, when inconsistent), for sentences. */
  valueAt(offset) {
    const at2 = this.values.get(offset);
    return at2 === void 0 ? void 0 : Math.min(...at2);
  }
};
function kafkaDeletions(observations) {
  const deletions = [];
  for (const record2 of observations) {
    const advanced = logStartAdvanced(record2.observation);
    if (advanced?.reason === "retention") {
      deletions.push({
        key: advanced.key,
        timeUs: record2.timeUs,
        deletedBelow: Math.min(advanced.logStartOffset, advanced.highWatermark)
      });
    }
  }
  return deletions;
}
var Deletions = class {
  byKey = /* @__PURE__ */ new Map();
  constructor(deletions) {
    for (const deletion of deletions) {
      const list3 = this.byKey.get(deletion.key) ?? [];
      list3.push(deletion);
      this.byKey.set(deletion.key, list3);
    }
    for (const list3 of this.byKey.values()) {
      list3.sort((a, b) => a.timeUs - b.timeUs);
    }
  }
  /** Some replica deleted `offset` of `key` at or before `timeUs`. */
  deletedBy(key2, offset, timeUs) {
    return (this.byKey.get(key2) ?? []).some(
      (deletion) => deletion.timeUs <= timeUs && offset < deletion.deletedBelow
    );
  }
  /** Some replica deleted `offset` of `key` at or after `timeUs`. */
  deletedAfter(key2, offset, timeUs) {
    return (this.byKey.get(key2) ?? []).some(
      (deletion) => deletion.timeUs >= timeUs && offset < deletion.deletedBelow
    );
  }
};
function statusOf(op) {
  return op.status === void 0 || op.returnUs === void 0 ? "info" : op.status;
}
function list2(items) {
  const shown = items.slice(0, LISTED_MAX).join(", ");
  return items.length > LISTED_MAX ? `${shown}, \u2026 (${items.length} in all)` : shown;
}
function analyzeKafkaHistory(history, options = {}) {
  const name = options.name ?? ((node) => `client ${node}`);
  const deletions = new Deletions(options.deletions ?? []);
  const deletedUnread = (send) => send.offset !== void 0 && send.op.returnUs !== void 0 && deletions.deletedAfter(send.key, send.offset, send.op.returnUs);
  const logs = /* @__PURE__ */ new Map();
  const logOf = (key2) => {
    let log = logs.get(key2);
    if (log === void 0) {
      log = new PartitionLog();
      logs.set(key2, log);
    }
    return log;
  };
  const sends = [];
  const writerOf = /* @__PURE__ */ new Map();
  const polls = [];
  for (const op of history) {
    const input = kafkaInput(op.input);
    if (input === void 0) {
      continue;
    }
    if (input.f === "send") {
      const send = {
        op,
        key: input.key,
        value: input.value,
        status: statusOf(op),
        offset: sendOffset(op)
      };
      sends.push(send);
      let writers = writerOf.get(input.key);
      if (writers === void 0) {
        writers = /* @__PURE__ */ new Map();
        writerOf.set(input.key, writers);
      }
      writers.set(input.value, send);
      if (send.offset !== void 0) {
        logOf(input.key).add(send.offset, input.value, op);
      }
    } else if (input.f === "poll") {
      const result = pollResult(op);
      if (result === void 0) {
        continue;
      }
      const msgs = Object.entries(result.msgs).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
      polls.push({ op, msgs, assignment: result.assignment });
      for (const [key2, pairs] of msgs) {
        const log = logOf(key2);
        for (const [offset, value] of pairs) {
          log.add(offset, value, op);
          log.read.add(value);
        }
      }
    }
  }
  for (const log of logs.values()) {
    log.seal();
  }
  const keys = [...logs.keys()].sort();
  const anomalies = [];
  const who2 = (op) => op === void 0 ? "nobody" : `${name(op.client)} (op ${op.id})`;
  const describeValue = (key2, value) => {
    const send = writerOf.get(key2)?.get(value);
    if (send === void 0) {
      return `${value} (sent by no recorded send)`;
    }
    const fate = send.status === "ok" ? `acknowledged at ${send.offset ?? "an unknown offset"}` : send.status === "fail" ? "which failed" : "outcome unknown";
    return `${value} (sent by ${who2(send.op)}, ${fate})`;
  };
  for (const key2 of keys) {
    const log = logs.get(key2);
    for (const offset of log.offsets) {
      const values = [...log.values.get(offset)].sort((a, b) => a - b);
      if (values.length > 1) {
        anomalies.push({
          type: "inconsistent-offsets",
          key: key2,
          offsets: [offset],
          values,
          ops: values.map((value) => log.seenBy.get(value)?.id ?? -1),
          message: `partition ${key2} offset ${offset} holds ${values.length} different values: ${values.map((value) => describeValue(key2, value)).join("; ")}`
        });
      }
    }
  }
  for (const key2 of keys) {
    const log = logs.get(key2);
    for (const [value, offsets] of log.offsetsOf) {
      if (offsets.length > 1) {
        anomalies.push({
          type: "duplicate",
          key: key2,
          offsets,
          values: [value],
          ops: [writerOf.get(key2)?.get(value)?.op.id ?? log.seenBy.get(value)?.id ?? -1],
          message: `partition ${key2} holds value ${describeValue(key2, value)} at ${offsets.length} offsets: ${list2(offsets)}`
        });
      }
    }
  }
  for (const poll of polls) {
    for (const [key2, pairs] of poll.msgs) {
      for (const [offset, value] of pairs) {
        const send = writerOf.get(key2)?.get(value);
        if (send?.status === "fail") {
          anomalies.push({
            type: "G1a",
            key: key2,
            offsets: [offset],
            values: [value],
            ops: [send.op.id, poll.op.id],
            message: `${who2(poll.op)} polled value ${value} at partition ${key2} offset ${offset}, but its send by ${who2(send.op)} definitely failed (an aborted read)`
          });
        }
      }
    }
  }
  for (const key2 of keys) {
    const log = logs.get(key2);
    let bound = -1;
    let boundValue;
    for (const value of log.read) {
      const first = log.index(log.offsetsOf.get(value)[0]);
      if (first > bound) {
        bound = first;
        boundValue = value;
      }
    }
    if (boundValue === void 0) {
      continue;
    }
    const lost = [];
    for (const send of writerOf.get(key2)?.values() ?? []) {
      if (send.status !== "ok" || send.offset === void 0 || log.read.has(send.value) || deletedUnread(send)) {
        continue;
      }
      const offsets = log.offsetsOf.get(send.value);
      const last = log.index(offsets[offsets.length - 1]);
      if (last <= bound) {
        lost.push({ offset: send.offset, send });
      }
    }
    lost.sort((a, b) => a.offset - b.offset);
    const highest = log.offsets[bound];
    const reader = log.seenBy.get(boundValue);
    for (const { offset, send } of lost) {
      anomalies.push({
        type: "lost-write",
        key: key2,
        offsets: [offset, highest],
        values: [send.value, boundValue],
        ops: [send.op.id, ...reader === void 0 ? [] : [reader.id]],
        message: `partition ${key2}: value ${send.value}, acknowledged to ${who2(send.op)} at offset ${offset}, was never polled, though offset ${highest} (value ${boundValue}) was`
      });
    }
  }
  const lastSend = /* @__PURE__ */ new Map();
  for (const send of sends) {
    if (send.offset === void 0) {
      continue;
    }
    const slot = `${send.op.client}\0${send.key}`;
    const previous = lastSend.get(slot);
    lastSend.set(slot, send);
    if (previous === void 0 || previous.offset === void 0) {
      continue;
    }
    const log = logs.get(send.key);
    if (log.index(send.offset) - log.index(previous.offset) < 1) {
      anomalies.push({
        type: "nonmonotonic-send",
        key: send.key,
        offsets: [previous.offset, send.offset],
        values: [previous.value, send.value],
        ops: [previous.op.id, send.op.id],
        message: `${name(send.op.client)} sent value ${previous.value} to partition ${send.key}, acknowledged at offset ${previous.offset} (op ${previous.op.id}), then value ${send.value}, acknowledged at offset ${send.offset} (op ${send.op.id}): not after it`
      });
    }
  }
  const consumers = /* @__PURE__ */ new Map();
  const external = [];
  const pollIndex = /* @__PURE__ */ new Map();
  for (const poll of polls) {
    pollIndex.set(poll.op, poll);
  }
  for (const op of history) {
    const input = kafkaInput(op.input);
    if (input === void 0) {
      continue;
    }
    let consumer = consumers.get(op.client);
    if (consumer === void 0) {
      consumer = { assignment: Number.NaN, last: /* @__PURE__ */ new Map() };
      consumers.set(op.client, consumer);
    }
    if ((input.f === "assign" || input.f === "subscribe") && op.status === "ok") {
      consumer.last.clear();
      continue;
    }
    const poll = pollIndex.get(op);
    if (poll === void 0) {
      continue;
    }
    if (poll.assignment !== consumer.assignment) {
      consumer.assignment = poll.assignment;
      consumer.last.clear();
    }
    for (const [key2, pairs] of poll.msgs) {
      const first = pairs[0];
      const lastPair = pairs[pairs.length - 1];
      if (first === void 0 || lastPair === void 0) {
        continue;
      }
      const log = logs.get(key2);
      const previous = consumer.last.get(key2);
      consumer.last.set(key2, { op, pair: lastPair });
      if (previous === void 0) {
        continue;
      }
      const [fromOffset, fromValue] = previous.pair;
      const [toOffset, toValue] = first;
      const delta = log.index(toOffset) - log.index(fromOffset);
      const ops = [previous.op.id, op.id];
      const skipped = delta > 1 ? log.between(log.index(fromOffset), log.index(toOffset)) : [];
      const overDeleted = op.returnUs !== void 0 && skipped.every((offset) => deletions.deletedBy(key2, offset, op.returnUs));
      if (delta > 1 && !overDeleted) {
        external.push({
          type: "poll-skip",
          key: key2,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops,
          message: `${name(op.client)} polled partition ${key2} up to offset ${fromOffset} (op ${previous.op.id}), then from offset ${toOffset} (op ${op.id}) in the same assignment ${poll.assignment}, skipping offsets ${list2(skipped)}`
        });
      } else if (delta < 1) {
        external.push({
          type: "nonmonotonic-poll",
          key: key2,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops,
          message: `${name(op.client)} polled partition ${key2} up to offset ${fromOffset} (op ${previous.op.id}), then from offset ${toOffset} (op ${op.id}) in the same assignment ${poll.assignment}: not past what it had read`
        });
      }
    }
  }
  anomalies.push(...external.filter((anomaly) => anomaly.type === "poll-skip"));
  anomalies.push(...external.filter((anomaly) => anomaly.type === "nonmonotonic-poll"));
  const internal = [];
  for (const poll of polls) {
    for (const [key2, pairs] of poll.msgs) {
      const log = logs.get(key2);
      for (let at2 = 1; at2 < pairs.length; at2++) {
        const [fromOffset, fromValue] = pairs[at2 - 1];
        const [toOffset, toValue] = pairs[at2];
        const delta = log.index(toOffset) - log.index(fromOffset);
        if (delta === 1) {
          continue;
        }
        const skip = delta > 1;
        internal.push({
          type: skip ? "int-poll-skip" : "int-nonmonotonic-poll",
          key: key2,
          offsets: [fromOffset, toOffset],
          values: [fromValue, toValue],
          ops: [poll.op.id],
          message: skip ? `one poll by ${who2(poll.op)} of partition ${key2} went from offset ${fromOffset} to ${toOffset}, skipping offsets ${list2(log.between(log.index(fromOffset), log.index(toOffset)))}` : `one poll by ${who2(poll.op)} of partition ${key2} went from offset ${fromOffset} to ${toOffset}: not forward`
        });
      }
    }
  }
  anomalies.push(...internal.filter((anomaly) => anomaly.type === "int-poll-skip"));
  anomalies.push(...internal.filter((anomaly) => anomaly.type === "int-nonmonotonic-poll"));
  let acknowledged2 = 0;
  let polledAcknowledged = 0;
  let deletedUnpolled = 0;
  const unseen = /* @__PURE__ */ new Map();
  for (const send of sends) {
    if (send.status !== "ok") {
      continue;
    }
    acknowledged2++;
    if (logs.get(send.key)?.read.has(send.value) === true) {
      polledAcknowledged++;
      continue;
    }
    if (deletedUnread(send)) {
      deletedUnpolled++;
      continue;
    }
    const missing = unseen.get(send.key) ?? [];
    missing.push(send);
    unseen.set(send.key, missing);
  }
  for (const key2 of [...unseen.keys()].sort()) {
    const missing = unseen.get(key2).sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1));
    anomalies.push({
      type: "unseen",
      key: key2,
      offsets: missing.map((send) => send.offset ?? -1),
      values: missing.map((send) => send.value),
      ops: missing.map((send) => send.op.id),
      message: `partition ${key2}: ${missing.length} acknowledged value(s) never polled by the end: ${list2(missing.map((send) => `${send.value} at offset ${send.offset}`))}`
    });
  }
  const rank = (type) => KAFKA_ANOMALIES.indexOf(type);
  anomalies.sort((a, b) => rank(a.type) - rank(b.type));
  return { anomalies, acknowledged: acknowledged2, polledAcknowledged, polls: polls.length, deletedUnpolled };
}
var NONE2 = /* @__PURE__ */ new Set();
function kafkaHistoryInvariants(options = {}) {
  let cached;
  const analysisOf = (view, observations) => {
    if (cached?.history !== view.history || cached.length !== view.history.length) {
      cached = {
        history: view.history,
        length: view.history.length,
        analysis: analyzeKafkaHistory(view.history, {
          name: (node) => view.name(node),
          deletions: kafkaDeletions(observations)
        })
      };
    }
    return cached.analysis;
  };
  const judged = KAFKA_ANOMALIES.filter(
    (type) => !(options.skip ?? []).includes(type) && (type !== "unseen" || options.unseen === true)
  );
  return judged.map(
    (type) => ({
      name: type,
      atEnd(view, observations = []) {
        const offline = type === "unseen" ? offlineAfterMediaFaults(view, observations) : NONE2;
        if (offline.has(OFFSETS_KEY)) {
          return void 0;
        }
        const found = analysisOf(view, observations).anomalies.filter(
          (anomaly) => anomaly.type === type && !offline.has(anomaly.key)
        );
        const first = found[0];
        if (first === void 0) {
          return void 0;
        }
        return found.length === 1 ? first.message : `${first.message} (and ${found.length - 1} more)`;
      }
    })
  );
}

// systems/durable-cell.ts
var HEADER_BYTES2 = 12;
var BODY_BYTES_MAX = SECTOR_SIZE_BYTES - HEADER_BYTES2;
var READ_ATTEMPTS_MAX2 = 3;
var SAVE_ATTEMPTS_MAX = 16;
var encoder5 = new TextEncoder();
var decoder4 = new TextDecoder();
var DurableCell = class {
  constructor(ctx, file, parse) {
    this.ctx = ctx;
    this.file = file;
    this.parse = parse;
  }
  ctx;
  file;
  parse;
  version = 0;
  saving = null;
  /** The newest value that was saved durably, or undefined when there is none. */
  load() {
    return this.loadChecked().value;
  }
  /**
   * As load(), and whether both slots hold what a run of saves leaves there: the newest
   * record in its own slot and the one saved before it in the other (or nothing, before a
   * second save). False after a save that a crash tore, and after damage to either slot (a
   * flipped bit, a lost sector, a record misdirected into the other slot): a caller that must
   * tell damage from a crash asks this, knowing which of its own writes can be in flight.
   */
  loadChecked() {
    const slots = [this.readSlot(0), this.readSlot(1)];
    let best;
    for (const [at2, read] of slots.entries()) {
      if (typeof read === "object" && (best === void 0 || read.version > best.version)) {
        best = { ...read, at: at2 };
      }
    }
    this.version = best?.version ?? 0;
    if (best === void 0) {
      return { value: void 0, intact: slots.every((read) => read === "empty") };
    }
    const other = slots[1 - best.at];
    const intact = best.at === best.version % 2 && (best.version === 1 ? other === "empty" : typeof other === "object" && other.version === best.version - 1);
    return { value: best.value, intact };
  }
  readSlot(slot) {
    for (let attempt = 0; attempt < READ_ATTEMPTS_MAX2; attempt++) {
      let bytes;
      try {
        bytes = this.ctx.disk.read(this.file, slot * SECTOR_SIZE_BYTES, SECTOR_SIZE_BYTES);
      } catch (error) {
        if (error instanceof DiskReadError) {
          return "damaged";
        }
        throw error;
      }
      if (bytes.length < HEADER_BYTES2 || bytes.subarray(0, HEADER_BYTES2).every((b) => b === 0)) {
        return "empty";
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const length = view.getUint32(0);
      if (length === 0 || length > BODY_BYTES_MAX) {
        continue;
      }
      const covered = bytes.subarray(8, HEADER_BYTES2 + length);
      if (covered.length !== 4 + length || crc323(covered) !== view.getUint32(4)) {
        continue;
      }
      let body;
      try {
        body = JSON.parse(decoder4.decode(bytes.subarray(HEADER_BYTES2, HEADER_BYTES2 + length)));
      } catch {
        continue;
      }
      const value = this.parse(body);
      if (value === void 0) {
        return "damaged";
      }
      return { version: view.getUint32(8), value };
    }
    return "damaged";
  }
  /** True while a save waits for its fsync. */
  busy() {
    return this.saving !== null;
  }
  /** Writes the value to the older slot and calls `done` once it is durable. */
  save(value, done) {
    if (this.saving !== null) {
      fail(`${this.file}: one save at a time`);
    }
    this.saving = { syncId: -1, attempts: 0, value, done };
    this.writeAndSync();
  }
  writeAndSync() {
    const saving = this.saving;
    assert(saving !== null, "nothing to save");
    saving.attempts++;
    if (saving.attempts > SAVE_ATTEMPTS_MAX) {
      throw new ProcessExit(`${this.file}: fsync failed ${SAVE_ATTEMPTS_MAX} times`);
    }
    const version = this.version + 1;
    const body = encoder5.encode(JSON.stringify(saving.value));
    if (body.length > BODY_BYTES_MAX) {
      fail(`${this.file}: record too large`);
    }
    const bytes = new Uint8Array(HEADER_BYTES2 + body.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, body.length);
    view.setUint32(8, version);
    bytes.set(body, HEADER_BYTES2);
    view.setUint32(4, crc323(bytes.subarray(8)));
    this.ctx.disk.write(this.file, version % 2 * SECTOR_SIZE_BYTES, bytes);
    saving.syncId = this.ctx.disk.fsync(this.file);
  }
  /** Routes an fsync completion; true when it was this cell's. */
  onSynced(syncId, ok) {
    const saving = this.saving;
    if (saving === null || saving.syncId !== syncId) {
      return false;
    }
    if (!ok) {
      this.writeAndSync();
      return true;
    }
    this.version++;
    this.saving = null;
    saving.done();
    return true;
  }
};

// systems/kafka/coordinator.ts
var GROUPS_MAX = 64;
var MEMBERS_MAX = 64;
var WAITERS_MAX = 1024;
function decodeOffsetsRecord(text) {
  try {
    const record2 = JSON.parse(text);
    return record2.t === "offset" || record2.t === "group" ? record2 : void 0;
  } catch {
    return void 0;
  }
}
function offsetsRecordKey(text) {
  const record2 = decodeOffsetsRecord(text);
  if (record2 === void 0) {
    return void 0;
  }
  return record2.t === "offset" ? `offset\0${record2.g}\0${record2.k}` : `group\0${record2.g}`;
}
var GroupCoordinator = class {
  constructor(host, config, acceptStaleCommits) {
    this.host = host;
    this.config = config;
    this.acceptStaleCommits = acceptStaleCommits;
  }
  host;
  config;
  acceptStaleCommits;
  active = false;
  leaderEpoch = 0;
  nextMember = 1;
  groups = /* @__PURE__ */ new Map();
  /** group → key → the newest durable committed offset. */
  committed = /* @__PURE__ */ new Map();
  /** Records above the high watermark, in offset order. */
  unapplied = [];
  waiters = [];
  appliedTo = 0;
  get isActive() {
    return this.active;
  }
  /** Became the offsets partition's leader: load the log, durable part first. */
  activate(leaderEpoch, records, highWatermark) {
    this.deactivate();
    this.active = true;
    this.leaderEpoch = leaderEpoch;
    this.appliedTo = 0;
    for (const { offset, text } of records) {
      const record2 = decodeOffsetsRecord(text);
      if (record2 === void 0) {
        continue;
      }
      if (record2.t === "group") {
        const group = this.groupOf(record2.g);
        group.generation = Math.max(group.generation, record2.gen);
      }
      if (offset < highWatermark) {
        this.apply(offset, record2);
      } else {
        this.unapplied.push({ offset, record: record2 });
      }
    }
    this.appliedTo = highWatermark;
  }
  /** Lost the leadership: answer what waits, forget everything (the log has it). */
  deactivate() {
    if (!this.active) {
      return;
    }
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        for (const id of [member.joinRequest, member.syncRequest]) {
          if (id !== null) {
            this.host.reply(member.client, { type: "group-error", id, error: "not-coordinator" });
          }
        }
      }
    }
    this.active = false;
    this.groups.clear();
    this.committed.clear();
    this.unapplied = [];
    this.waiters = [];
  }
  /** The offsets partition's high watermark moved: apply and answer what it passed. */
  onHighWatermark(highWatermark) {
    if (!this.active || highWatermark <= this.appliedTo) {
      return;
    }
    this.appliedTo = highWatermark;
    let applied = 0;
    while (applied < this.unapplied.length) {
      const next = this.unapplied[applied];
      if (next.offset >= highWatermark) {
        break;
      }
      this.apply(next.offset, next.record);
      applied++;
    }
    this.unapplied.splice(0, applied);
    const ready = this.waiters.filter((waiter) => waiter.endOffset <= highWatermark);
    this.waiters = this.waiters.filter((waiter) => waiter.endOffset > highWatermark);
    for (const waiter of ready) {
      waiter.run();
    }
  }
  apply(logOffset, record2) {
    if (record2.t !== "offset") {
      return;
    }
    let offsets = this.committed.get(record2.g);
    if (offsets === void 0) {
      offsets = /* @__PURE__ */ new Map();
      this.committed.set(record2.g, offsets);
    }
    offsets.set(record2.k, record2.o);
    this.host.observe({
      type: "kafka-offset-committed",
      group: record2.g,
      key: record2.k,
      offset: record2.o,
      generation: record2.gen,
      member: record2.m,
      logOffset
    });
  }
  groupOf(id) {
    let group = this.groups.get(id);
    if (group === void 0) {
      assert(this.groups.size < GROUPS_MAX, "too many consumer groups");
      group = {
        id,
        generation: 0,
        state: "empty",
        preparingSinceUs: 0,
        members: /* @__PURE__ */ new Map(),
        assignment: /* @__PURE__ */ new Map()
      };
      this.groups.set(id, group);
    }
    return group;
  }
  error(client, id, error) {
    this.host.reply(client, { type: "group-error", id, error });
  }
  /** Appends and, once durable, runs `done`; false when it may not append. */
  appendThen(payloads, records, done) {
    if (this.waiters.length >= WAITERS_MAX) {
      return false;
    }
    const end = this.host.append(payloads);
    if (end === void 0) {
      return false;
    }
    const base = end - payloads.length;
    records.forEach((record2, at2) => {
      this.unapplied.push({ offset: base + at2, record: record2 });
    });
    this.waiters.push({ endOffset: end, run: done });
    return true;
  }
  append(records, done) {
    return this.appendThen(
      records.map((record2) => JSON.stringify(record2)),
      records,
      done
    );
  }
  onRequest(client, request) {
    if (request.type === "find-coordinator") {
      return;
    }
    if (!this.active) {
      this.error(client, request.id, "not-coordinator");
      return;
    }
    if (!this.groups.has(request.group) && this.groups.size >= GROUPS_MAX) {
      this.error(client, request.id, "overloaded");
      return;
    }
    const group = this.groupOf(request.group);
    switch (request.type) {
      case "join-group":
        this.onJoin(client, group, request);
        return;
      case "sync-group":
        this.onSync(client, group, request);
        return;
      case "group-heartbeat": {
        const member = group.members.get(request.memberId);
        if (member === void 0) {
          this.error(client, request.id, "unknown-member");
          return;
        }
        member.lastHeardUs = this.host.now();
        member.client = client;
        if (request.generation !== group.generation) {
          this.error(client, request.id, "illegal-generation");
        } else if (group.state === "preparing") {
          this.error(client, request.id, "rebalance-in-progress");
        } else {
          this.host.reply(client, { type: "group-heartbeat-ok", id: request.id });
        }
        return;
      }
      case "leave-group":
        if (group.members.delete(request.memberId)) {
          this.rebalance(group);
        }
        this.host.reply(client, { type: "leave-group-ok", id: request.id });
        return;
      case "offset-commit":
        this.onCommit(client, group, request);
        return;
      case "offset-fetch": {
        const known = this.committed.get(group.id);
        const offsets = {};
        for (const key2 of request.keys) {
          const offset = known?.get(key2);
          if (offset !== void 0) {
            offsets[key2] = offset;
          }
        }
        this.host.reply(client, { type: "offset-fetch-ok", id: request.id, offsets });
        return;
      }
    }
  }
  onJoin(client, group, request) {
    let member = request.memberId === null ? void 0 : group.members.get(request.memberId) ?? void 0;
    if (member === void 0) {
      member = [...group.members.values()].find(
        (candidate2) => candidate2.instance === request.instance
      );
    }
    if (member === void 0 && request.memberId !== null) {
      this.error(client, request.id, "unknown-member");
      return;
    }
    const now = this.host.now();
    if (member === void 0) {
      if (group.members.size >= MEMBERS_MAX) {
        this.error(client, request.id, "overloaded");
        return;
      }
      member = {
        id: `${request.instance}@${this.leaderEpoch}.${this.nextMember++}`,
        instance: request.instance,
        client,
        lastHeardUs: now,
        joined: false,
        joinRequest: null,
        syncRequest: null,
        lastCommitSequence: -1
      };
      group.members.set(member.id, member);
      this.rebalance(group);
    } else if (group.state === "stable" || group.state === "syncing") {
      member.client = client;
      member.lastHeardUs = now;
      this.host.reply(client, {
        type: "join-group-ok",
        id: request.id,
        group: group.id,
        memberId: member.id,
        generation: group.generation
      });
      return;
    } else if (group.state === "empty") {
      this.rebalance(group);
    }
    member.client = client;
    member.lastHeardUs = now;
    member.joined = true;
    member.joinRequest = request.id;
    this.maybeCompleteJoin(group);
  }
  /** Starts a rebalance (or restarts one under way): every member must rejoin. */
  rebalance(group) {
    if (group.state !== "preparing") {
      group.state = "preparing";
      group.preparingSinceUs = this.host.now();
      for (const member of group.members.values()) {
        member.joined = false;
      }
    }
    this.maybeCompleteJoin(group);
  }
  maybeCompleteJoin(group) {
    if (group.state !== "preparing") {
      return;
    }
    const members = [...group.members.values()];
    const timedOut = this.host.now() - group.preparingSinceUs >= this.config.rebalanceTimeoutUs;
    if (!timedOut && !members.every((member) => member.joined)) {
      return;
    }
    const joined = members.filter((member) => member.joined).sort((a, b) => cmp(a.id, b.id));
    const generation = group.generation + 1;
    const assignment = new Map(joined.map((member) => [member.id, []]));
    this.config.keys.forEach((key2, at2) => {
      const owner = joined[at2 % Math.max(1, joined.length)];
      if (owner !== void 0) {
        assignment.get(owner.id)?.push(key2);
      }
    });
    const record2 = {
      t: "group",
      g: group.id,
      gen: generation,
      a: Object.fromEntries(assignment)
    };
    const appended = this.append([record2], () => this.onGenerationDurable(group, generation));
    if (!appended) {
      return;
    }
    for (const member of members) {
      if (!member.joined) {
        group.members.delete(member.id);
      }
    }
    group.generation = generation;
    group.assignment = assignment;
    group.state = joined.length === 0 ? "empty" : "syncing";
    for (const member of joined) {
      member.joined = false;
      member.lastCommitSequence = -1;
      const id = member.joinRequest;
      member.joinRequest = null;
      if (id !== null) {
        this.host.reply(member.client, {
          type: "join-group-ok",
          id,
          group: group.id,
          memberId: member.id,
          generation
        });
      }
    }
  }
  onGenerationDurable(group, generation) {
    if (group.generation !== generation || group.state !== "syncing") {
      return;
    }
    group.state = "stable";
    for (const member of group.members.values()) {
      if (member.syncRequest !== null) {
        this.answerSync(group, member, member.syncRequest);
        member.syncRequest = null;
      }
    }
  }
  answerSync(group, member, id) {
    this.host.reply(member.client, {
      type: "sync-group-ok",
      id,
      group: group.id,
      generation: group.generation,
      keys: group.assignment.get(member.id) ?? []
    });
  }
  onSync(client, group, request) {
    const member = group.members.get(request.memberId);
    if (member === void 0) {
      this.error(client, request.id, "unknown-member");
      return;
    }
    member.client = client;
    member.lastHeardUs = this.host.now();
    if (request.generation !== group.generation) {
      this.error(client, request.id, "illegal-generation");
    } else if (group.state === "preparing") {
      this.error(client, request.id, "rebalance-in-progress");
    } else if (group.state === "syncing") {
      member.syncRequest = request.id;
    } else {
      this.answerSync(group, member, request.id);
    }
  }
  onCommit(client, group, request) {
    const member = group.members.get(request.memberId);
    const current = member !== void 0 && request.generation === group.generation;
    if (!this.acceptStaleCommits || current) {
      if (member === void 0 || request.generation !== group.generation) {
        this.host.observe({
          type: "kafka-commit-fenced",
          group: group.id,
          generation: request.generation,
          current: group.generation
        });
        this.error(
          client,
          request.id,
          member === void 0 ? "unknown-member" : "illegal-generation"
        );
        return;
      }
      if (group.state === "syncing") {
        this.error(client, request.id, "rebalance-in-progress");
        return;
      }
      if (request.sequence <= member.lastCommitSequence) {
        this.error(client, request.id, "stale-sequence");
        return;
      }
      member.lastHeardUs = this.host.now();
    }
    const keys = Object.keys(request.offsets).sort();
    if (keys.length === 0) {
      this.host.reply(client, { type: "offset-commit-ok", id: request.id });
      return;
    }
    const records = keys.map((key2) => ({
      t: "offset",
      g: group.id,
      k: key2,
      o: request.offsets[key2],
      gen: request.generation,
      m: request.memberId
    }));
    const appended = this.append(
      records,
      () => this.host.reply(client, { type: "offset-commit-ok", id: request.id })
    );
    if (!appended) {
      this.error(client, request.id, "not-enough-replicas");
      return;
    }
    if (member !== void 0 && current) {
      member.lastCommitSequence = request.sequence;
    }
  }
  /** Session expiry and rebalance timeouts. */
  tick() {
    if (!this.active) {
      return;
    }
    const now = this.host.now();
    for (const group of this.groups.values()) {
      let expired = false;
      for (const member of [...group.members.values()]) {
        const waiting = group.state === "preparing" && member.joined;
        if (!waiting && now - member.lastHeardUs > this.config.groupSessionTimeoutUs) {
          group.members.delete(member.id);
          this.host.observe({ type: "kafka-member-expired", group: group.id, member: member.id });
          expired = true;
        }
      }
      if (expired) {
        this.rebalance(group);
      } else {
        this.maybeCompleteJoin(group);
      }
    }
  }
};
function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// systems/kafka/records.ts
var BATCH_HEADER_BYTES = 8;
var MAGIC = 2;
var BODY_FIXED_BYTES = 1 + 1 + 4 + 8 + 4 + 8 + 2 + 4 + 4;
var BATCH_BYTES_MAX = 1024 * 1024;
var RECORDS_PER_BATCH_MAX = 4096;
var FLAG_LAST_OF_CHUNK = 1;
var TWO_32 = 2 ** 32;
function lastOffsetOf(batch) {
  return batch.baseOffset + batch.records.length - 1;
}
function setU64(view, at2, value) {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    fail(`u64 field out of range: ${value}`);
  }
  view.setUint32(at2, Math.floor(value / TWO_32));
  view.setUint32(at2 + 4, value % TWO_32);
}
var positionBytes = new Uint8Array(4);
var positionView = new DataView(positionBytes.buffer);
function batchChecksum(body, position) {
  assert(Number.isSafeInteger(position) && position >= 0 && position < TWO_32, "a batch position");
  positionView.setUint32(0, position);
  return (crc323(body) ^ crc323(positionBytes)) >>> 0;
}
function encodeBatch2(batch, chunk, lastOfChunk, position) {
  assert(batch.records.length > 0, "a batch holds at least one record");
  assert(batch.records.length <= RECORDS_PER_BATCH_MAX, "too many records in one batch");
  let bodyBytes = BODY_FIXED_BYTES;
  for (const record2 of batch.records) {
    bodyBytes += 4 + record2.length;
  }
  assert(bodyBytes + BATCH_HEADER_BYTES <= BATCH_BYTES_MAX, "a batch over the size limit");
  const bytes = new Uint8Array(BATCH_HEADER_BYTES + bodyBytes);
  const view = new DataView(bytes.buffer);
  let at2 = BATCH_HEADER_BYTES;
  view.setUint8(at2, MAGIC);
  view.setUint8(at2 + 1, lastOfChunk ? FLAG_LAST_OF_CHUNK : 0);
  view.setUint32(at2 + 2, chunk);
  setU64(view, at2 + 6, batch.baseOffset);
  view.setUint32(at2 + 14, batch.leaderEpoch);
  setU64(view, at2 + 18, batch.producerId + 1);
  view.setUint16(at2 + 26, batch.producerEpoch);
  view.setInt32(at2 + 28, batch.baseSequence);
  view.setUint32(at2 + 32, batch.records.length);
  at2 += BODY_FIXED_BYTES;
  for (const record2 of batch.records) {
    view.setUint32(at2, record2.length);
    bytes.set(record2, at2 + 4);
    at2 += 4 + record2.length;
  }
  view.setUint32(0, bodyBytes);
  view.setUint32(4, batchChecksum(bytes.subarray(BATCH_HEADER_BYTES), position));
  return bytes;
}
function decodeBatchAt(bytes, at2, filePosition = at2) {
  if (at2 + BATCH_HEADER_BYTES > bytes.length) {
    return "partial batch header";
  }
  const length = getU32(bytes, at2);
  if (length < BODY_FIXED_BYTES || length + BATCH_HEADER_BYTES > BATCH_BYTES_MAX) {
    return `implausible batch length ${length}`;
  }
  const end = at2 + BATCH_HEADER_BYTES + length;
  if (end > bytes.length) {
    return "batch runs past the end of the file";
  }
  if (batchChecksum(bytes.subarray(at2 + BATCH_HEADER_BYTES, end), filePosition) !== getU32(bytes, at2 + 4)) {
    return "checksum mismatch";
  }
  const body = at2 + BATCH_HEADER_BYTES;
  if (getU8(bytes, body) !== MAGIC) {
    return `unknown batch magic ${getU8(bytes, body)}`;
  }
  const count2 = getU32(bytes, body + 32);
  if (count2 === 0 || count2 > RECORDS_PER_BATCH_MAX) {
    return `implausible record count ${count2}`;
  }
  const records = [];
  let position = body + BODY_FIXED_BYTES;
  for (let index = 0; index < count2; index++) {
    if (position + 4 > end) {
      return "record runs past its batch";
    }
    const recordBytes = getU32(bytes, position);
    if (position + 4 + recordBytes > end) {
      return "record runs past its batch";
    }
    records.push(bytes.slice(position + 4, position + 4 + recordBytes));
    position += 4 + recordBytes;
  }
  if (position !== end) {
    return "bytes left over after the last record";
  }
  return {
    chunk: getU32(bytes, body + 2),
    lastOfChunk: (getU8(bytes, body + 1) & FLAG_LAST_OF_CHUNK) !== 0,
    baseOffset: getU64(bytes, body + 6),
    leaderEpoch: getU32(bytes, body + 14),
    producerId: getU64(bytes, body + 18) - 1,
    producerEpoch: getU16(bytes, body + 26),
    baseSequence: getI32(bytes, body + 28),
    records,
    sizeBytes: end - at2
  };
}

// systems/kafka/partition-log.ts
var DEFAULT_PARTITION_LOG_CONFIG = {
  segmentBytes: 16 * 1024,
  indexIntervalBytes: 1024
};
var INDEX_ENTRY_BYTES = 8;
var CLEANED_SUFFIX = ".cleaned";
var COMPACTION_FRESH_SEGMENTS_MIN = 4;
var SEGMENTS_MAX = 4096;
var READ_ATTEMPTS_MAX3 = 4;
var CHUNK_BATCHES_MAX = 256;
var FETCH_BATCHES_MAX = 1024;
var RECOVERY_POINT_FILE = "recovery-point";
function parseRecoveryPoint(body) {
  return Number.isSafeInteger(body) && body >= 0 ? body : void 0;
}
function segmentName(dir, baseOffset, suffix) {
  return `${dir}${String(baseOffset).padStart(20, "0")}${suffix}`;
}
function encodeIndex(entries) {
  const bytes = new Uint8Array(entries.length * INDEX_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  entries.forEach((entry, at2) => {
    view.setUint32(at2 * INDEX_ENTRY_BYTES, entry.relativeOffset);
    view.setUint32(at2 * INDEX_ENTRY_BYTES + 4, entry.position);
  });
  return bytes;
}
var PartitionLog2 = class _PartitionLog {
  constructor(disk, config) {
    this.disk = disk;
    this.config = config;
    assert(config.segmentBytes >= 1, "segments need a positive size");
    assert(config.indexIntervalBytes >= 1, "the index interval must be positive");
    this.recoveryPoint = config.recoveryPoints === true ? new DurableCell({ disk }, `${config.dir}${RECOVERY_POINT_FILE}`, parseRecoveryPoint) : void 0;
  }
  disk;
  config;
  segments = [];
  /** Appended, not yet written to a segment file. */
  pending = [];
  epochs = [];
  round = null;
  cleaning = null;
  /** The end of the cleanable segments at compaction's last look at them. */
  compactionCheckedTo = -1;
  /** Rewrites that look planned and has not started yet, oldest first. */
  compactionQueue = [];
  /** Files written or shrunk since their last fsync. */
  unsynced = /* @__PURE__ */ new Set();
  nextChunk = 1;
  /** The recovery point (recoveryPoints only). */
  recoveryPoint;
  /** The offset the recovery point last saved (or recovery read). */
  marked = 0;
  /** The recovery point must be saved before the next chunk (after a truncation). */
  markDue = false;
  /**
   * A truncation's cut of a segment file, held back until the recovery point says the cut
   * (recoveryPoints only): a crash during the cut can leave its zeroed sector on the disk
   * under the old file size, and that must read as a torn tail above the point, not damage.
   */
  deferredCut;
  /** Why recovery found durable records damaged: the log is never used then. */
  damaged;
  readFromDisk = (file, offsetBytes, lengthBytes) => this.disk.read(file, offsetBytes, lengthBytes);
  peekAtDisk = (file, offsetBytes, lengthBytes) => this.disk.peek(file, offsetBytes, lengthBytes);
  logEnd = 0;
  durableEnd = 0;
  logStart = 0;
  /** Called whenever durableEndOffset moves up. */
  onDurable;
  get logStartOffset() {
    return this.logStart;
  }
  get logEndOffset() {
    return this.logEnd;
  }
  get durableEndOffset() {
    return this.durableEnd;
  }
  /** The leader epoch of the last record, or -1 when the log holds none. */
  get latestEpoch() {
    return this.epochs[this.epochs.length - 1]?.epoch ?? -1;
  }
  get epochEntries() {
    return this.epochs;
  }
  /** The base offset of the last segment (where appends go unless it is full or sealed). */
  get activeBaseOffset() {
    return this.segments[this.segments.length - 1]?.baseOffset ?? this.logStart;
  }
  get segmentCount() {
    return this.segments.length;
  }
  /** Bytes in segment files (pending appends not included). */
  get sizeBytes() {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }
  // ---- recovery ----------------------------------------------------------------------------
  /** Opens the partition's log from the disk, cutting a torn tail. */
  static open(disk, config) {
    const log = new _PartitionLog(disk, config);
    const recovery = log.recover();
    return { log, recovery };
  }
  recover() {
    const { dir } = this.config;
    for (const name of this.disk.list()) {
      if (name.startsWith(dir) && name.endsWith(CLEANED_SUFFIX)) {
        this.disk.remove(name);
      }
    }
    const bases = this.disk.list().filter((name) => name.startsWith(dir) && name.endsWith(".log")).map((name) => name.slice(dir.length, -".log".length)).filter((base) => /^\d{20}$/.test(base)).map(Number).sort((a, b) => a - b);
    assert(bases.length <= SEGMENTS_MAX, `partition ${dir} has too many segments`);
    let status = { kind: "clean" };
    let indexesRebuilt = 0;
    let maxChunk = 0;
    const point = this.recoveryPoint?.loadChecked();
    for (const [position, baseOffset] of bases.entries()) {
      const last = position === bases.length - 1;
      const segment = {
        baseOffset,
        logFile: segmentName(dir, baseOffset, ".log"),
        indexFile: segmentName(dir, baseOffset, ".index"),
        sizeBytes: 0,
        endOffset: baseOffset,
        index: [],
        bytesSinceIndex: 0,
        sealed: false
      };
      const previous = this.segments[this.segments.length - 1];
      const gap = this.config.compacted === true && previous !== void 0 && previous.endOffset < baseOffset;
      if (previous !== void 0 && previous.endOffset !== baseOffset && !gap) {
        return this.refuse(
          {
            kind: "corrupt",
            offset: previous.endOffset,
            file: segment.logFile,
            reason: `segment ${segment.logFile} starts at ${baseOffset}, not at ${previous.endOffset}`
          },
          indexesRebuilt
        );
      }
      const bytes = readStable(this.disk, segment.logFile);
      const scan = this.scanSegment(segment, bytes);
      maxChunk = Math.max(maxChunk, scan.maxChunk);
      this.segments.push(segment);
      if (scan.failure !== void 0) {
        const damage = last ? this.tailDamage(segment.endOffset, point) : "it is not the last";
        if (damage !== void 0) {
          return this.refuse(
            {
              kind: "corrupt",
              offset: segment.endOffset,
              file: segment.logFile,
              reason: `${scan.failure}, yet ${damage}`
            },
            indexesRebuilt
          );
        }
      }
      if (!this.indexMatches(segment)) {
        this.writeIndex(segment);
        indexesRebuilt++;
      }
      if (scan.failure !== void 0) {
        const cut = segment.sizeBytes;
        this.shrink(segment, cut);
        status = {
          kind: "torn-tail",
          offset: segment.endOffset,
          bytesDropped: bytes.length - cut,
          reason: scan.failure
        };
        this.removeSegmentsFrom(position + 1, bases);
        break;
      }
    }
    this.nextChunk = maxChunk + 1;
    const first = this.segments[0];
    const lastSegment = this.segments[this.segments.length - 1];
    if (lastSegment !== void 0) {
      lastSegment.sealed = true;
    }
    this.logStart = first?.baseOffset ?? 0;
    this.logEnd = lastSegment?.endOffset ?? 0;
    this.durableEnd = this.logEnd;
    if (this.recoveryPoint !== void 0) {
      this.marked = point?.value ?? 0;
      this.durableEnd = Math.max(this.logStart, Math.min(this.logEnd, this.marked));
      this.markDue = this.marked !== this.logEnd || point?.intact !== true;
    }
    this.writeNext();
    return { status, segments: this.segments.length, indexesRebuilt };
  }
  /**
   * Why a bad batch at `offset` in the last segment cannot be a torn tail, if it cannot: it
   * lies below the recovery point, or the point's cell is damaged too (a torn save of the
   * cell leaves the log intact, so a bad batch beside it is a media fault). Undefined: torn.
   */
  tailDamage(offset, point) {
    if (point === void 0) {
      return void 0;
    }
    if (!point.intact) {
      return `the recovery point ${this.config.dir}${RECOVERY_POINT_FILE} is damaged too`;
    }
    if (offset < (point.value ?? 0)) {
      return `the recovery point says the log was durable through offset ${point.value}`;
    }
    return void 0;
  }
  /** Damaged durable records: nothing is cut or rewritten, and the log refuses use. */
  refuse(status, indexesRebuilt) {
    this.damaged = status.reason;
    return { status, segments: this.segments.length, indexesRebuilt };
  }
  /** Why recovery refused this log (damaged durable records), or undefined. */
  get damage() {
    return this.damaged;
  }
  /** Reads a segment's batches into its in-memory index and the epoch cache. */
  scanSegment(segment, bytes) {
    let at2 = 0;
    let maxChunk = 0;
    let previous;
    while (at2 < bytes.length) {
      const batch = decodeBatchAt(bytes, at2);
      if (typeof batch === "string") {
        return { failure: `${batch} at byte ${at2} of ${segment.logFile}`, maxChunk };
      }
      const gap = this.config.compacted === true && batch.baseOffset > segment.endOffset;
      if (batch.baseOffset !== segment.endOffset && !gap) {
        return {
          failure: `batch at byte ${at2} of ${segment.logFile} starts at offset ${batch.baseOffset}, not ${segment.endOffset}`,
          maxChunk
        };
      }
      if (previous !== void 0 && batch.chunk < previous.chunk) {
        return {
          failure: `batch at byte ${at2} of ${segment.logFile} is from write ${batch.chunk}, older than the one before it (${previous.chunk})`,
          maxChunk
        };
      }
      if (batch.leaderEpoch < this.latestEpoch) {
        return {
          failure: `batch at byte ${at2} of ${segment.logFile} has leader epoch ${batch.leaderEpoch}, below ${this.latestEpoch} before it`,
          maxChunk
        };
      }
      this.indexBatch(segment, batch, at2, batch.sizeBytes);
      this.noteEpoch(batch.leaderEpoch, batch.baseOffset);
      segment.sizeBytes = at2 + batch.sizeBytes;
      segment.endOffset = lastOffsetOf(batch) + 1;
      maxChunk = Math.max(maxChunk, batch.chunk);
      previous = batch;
      at2 += batch.sizeBytes;
    }
    return { failure: void 0, maxChunk };
  }
  indexMatches(segment) {
    const bytes = this.disk.read(segment.indexFile);
    const expected = encodeIndex(segment.index);
    return bytes.length === expected.length && Buffer.compare(bytes, expected) === 0;
  }
  writeIndex(segment) {
    this.disk.remove(segment.indexFile);
    if (segment.index.length > 0) {
      this.disk.write(segment.indexFile, 0, encodeIndex(segment.index));
    }
  }
  removeSegmentsFrom(position, bases) {
    for (const base of bases.slice(position)) {
      this.disk.remove(segmentName(this.config.dir, base, ".log"));
      this.disk.remove(segmentName(this.config.dir, base, ".index"));
    }
  }
  // ---- appends and durability --------------------------------------------------------------
  /**
   * Appends a batch at the log end (a follower passes the leader's base offset, which must be
   * the log end). Returns the offsets it got. Durable once durableEndOffset passes them.
   */
  append(input, baseOffset = this.logEnd) {
    if (this.damaged !== void 0) {
      fail(`append to a damaged log (${this.damaged})`);
    }
    if (!(baseOffset === this.logEnd || this.config.compacted === true && baseOffset > this.logEnd)) {
      fail(`append at ${baseOffset}, but the log ends at ${this.logEnd}`);
    }
    assert(input.records.length > 0, "an append holds at least one record");
    if (input.leaderEpoch < this.latestEpoch) {
      fail(`append in epoch ${input.leaderEpoch} after epoch ${this.latestEpoch}`);
    }
    const batch = { ...input, baseOffset };
    this.pending.push(batch);
    this.noteEpoch(batch.leaderEpoch, baseOffset);
    this.logEnd = lastOffsetOf(batch) + 1;
    this.writeNext();
    return { baseOffset, lastOffset: this.logEnd - 1 };
  }
  noteEpoch(epoch, offset) {
    if (epoch > this.latestEpoch) {
      this.epochs.push({ epoch, startOffset: offset });
    }
  }
  /**
   * Writes the pending batches as one chunk and fsyncs, unless a write is still in flight. A
   * cut not yet durable goes first, alone: were the next chunk's fsync to finish before the
   * cut's and the node crash between them, the cut-off tail would come back beside it.
   */
  writeNext() {
    if (this.round !== null) {
      return;
    }
    if (this.unsynced.size > 0) {
      this.startSyncRound();
      return;
    }
    if (this.markDue) {
      this.saveRecoveryPoint({
        syncIds: /* @__PURE__ */ new Set(),
        endOffset: this.segmentsEndOffset(),
        phase: "mark"
      });
      return;
    }
    if (this.deferredCut !== void 0) {
      const { segment: segment2, position } = this.deferredCut;
      this.deferredCut = void 0;
      this.shrink(segment2, position);
      this.writeIndex(segment2);
      this.startSyncRound();
      return;
    }
    if (this.pending.length === 0) {
      return;
    }
    const batches = this.pending.splice(0, CHUNK_BATCHES_MAX);
    const segment = this.activeSegment(batches[0]);
    const chunk = this.nextChunk++;
    let bytes = 0;
    const parts = batches.map((batch, at3) => {
      const part = encodeBatch2(batch, chunk, at3 === batches.length - 1, segment.sizeBytes + bytes);
      bytes += part.length;
      return part;
    });
    const data = new Uint8Array(bytes);
    let at2 = 0;
    const indexBefore = segment.index.length;
    for (const [position, part] of parts.entries()) {
      data.set(part, at2);
      const batch = batches[position];
      this.indexBatch(segment, batch, segment.sizeBytes + at2, part.length);
      at2 += part.length;
    }
    this.disk.write(segment.logFile, segment.sizeBytes, data);
    segment.sizeBytes += bytes;
    segment.endOffset = lastOffsetOf(batches[batches.length - 1]) + 1;
    if (segment.index.length > indexBefore) {
      this.disk.write(
        segment.indexFile,
        indexBefore * INDEX_ENTRY_BYTES,
        encodeIndex(segment.index.slice(indexBefore))
      );
    }
    this.unsynced.add(segment.logFile);
    this.startSyncRound();
  }
  /** The segment the next chunk goes to: the last one, or a new one when it is full or sealed. */
  activeSegment(first) {
    const last = this.segments[this.segments.length - 1];
    if (last !== void 0 && !last.sealed && last.sizeBytes < this.config.segmentBytes) {
      return last;
    }
    if (last !== void 0 && last.sizeBytes === 0 && last.baseOffset === first.baseOffset) {
      this.segments.pop();
      this.disk.remove(last.logFile);
      this.disk.remove(last.indexFile);
    }
    if (last !== void 0 && !last.sealed) {
      this.unsynced.add(last.indexFile);
    }
    if (this.segments.length >= SEGMENTS_MAX) {
      fail(`partition ${this.config.dir} has too many segments`);
    }
    const segment = {
      baseOffset: first.baseOffset,
      logFile: segmentName(this.config.dir, first.baseOffset, ".log"),
      indexFile: segmentName(this.config.dir, first.baseOffset, ".index"),
      sizeBytes: 0,
      endOffset: first.baseOffset,
      index: [],
      bytesSinceIndex: 0,
      sealed: false
    };
    assert(!this.disk.exists(segment.logFile), `segment ${segment.logFile} exists already`);
    this.segments.push(segment);
    return segment;
  }
  indexBatch(segment, batch, position, sizeBytes) {
    if (segment.index.length === 0 || segment.bytesSinceIndex >= this.config.indexIntervalBytes) {
      segment.index.push({ relativeOffset: batch.baseOffset - segment.baseOffset, position });
      segment.bytesSinceIndex = 0;
    }
    segment.bytesSinceIndex += sizeBytes;
  }
  /** Fsyncs every file written or shrunk since its last fsync (one round at a time). */
  startSyncRound() {
    if (this.round !== null) {
      return;
    }
    const files = [...this.unsynced].sort();
    this.unsynced.clear();
    const round = {
      syncIds: /* @__PURE__ */ new Set(),
      endOffset: this.segmentsEndOffset(),
      phase: "data"
    };
    for (const file of files) {
      if (this.disk.exists(file)) {
        round.syncIds.add(this.disk.fsync(file));
      }
    }
    if (round.syncIds.size > 0) {
      this.round = round;
    } else if (this.recoveryPoint !== void 0 && round.endOffset !== this.marked) {
      this.saveRecoveryPoint(round);
    } else {
      this.advanceDurable(round.endOffset);
    }
  }
  /** The round's data is durable: save the recovery point, then let the records out. */
  saveRecoveryPoint(round) {
    const cell = this.recoveryPoint;
    assert(cell !== void 0, "a recovery point is saved only where the log keeps one");
    round.phase = "mark";
    this.round = round;
    this.markDue = false;
    const point = round.endOffset;
    cell.save(point, () => {
      assert(this.round === round, "the recovery point was saved for the round in flight");
      this.marked = point;
      this.markDue ||= point !== round.endOffset;
      this.round = null;
      this.advanceDurable(round.endOffset);
      this.writeNext();
    });
  }
  segmentsEndOffset() {
    return this.segments[this.segments.length - 1]?.endOffset ?? this.logStart;
  }
  /** An fsync finished; false when it was not this log's. */
  onSynced(syncId, ok) {
    if (this.cleaning?.syncId === syncId) {
      if (!ok) {
        throw new ProcessExit(`fsync of a compacted segment of ${this.config.dir} failed`);
      }
      this.finishCleaning(this.cleaning);
      return true;
    }
    if (this.recoveryPoint?.onSynced(syncId, ok) === true) {
      return true;
    }
    const round = this.round;
    if (round === null || !round.syncIds.has(syncId)) {
      return false;
    }
    if (!ok) {
      throw new ProcessExit(`fsync of partition ${this.config.dir} failed`);
    }
    round.syncIds.delete(syncId);
    if (round.syncIds.size > 0) {
      return true;
    }
    if (this.recoveryPoint !== void 0) {
      this.saveRecoveryPoint(round);
      return true;
    }
    this.round = null;
    this.advanceDurable(round.endOffset);
    this.writeNext();
    return true;
  }
  advanceDurable(endOffset) {
    const next = Math.min(endOffset, this.logEnd);
    if (next > this.durableEnd) {
      this.durableEnd = next;
      this.onDurable?.(next);
    }
  }
  // ---- truncation and retention ------------------------------------------------------------
  /**
   * Drops every record at or above `offset` (a follower whose log diverged from its leader's),
   * as Kafka does: from the start of the batch holding `offset`, since a batch is the unit on
   * disk; returns the new log end (at most `offset`). The cut is fsynced before anything is
   * written after it.
   */
  truncateTo(offset) {
    assert(Number.isSafeInteger(offset) && offset >= 0, "truncate to a non-negative offset");
    this.compactionCheckedTo = -1;
    this.compactionQueue = [];
    if (offset >= this.logEnd) {
      return this.logEnd;
    }
    if (offset <= this.logStart) {
      this.truncateFullyAndStartAt(offset);
      return offset;
    }
    let end = offset;
    if (offset < this.segmentsEndOffset()) {
      this.pending = [];
      end = this.truncateSegments(offset);
    } else {
      const at2 = this.pending.findIndex((batch) => lastOffsetOf(batch) >= offset);
      end = this.pending[at2].baseOffset;
      this.pending.length = at2;
    }
    this.logEnd = end;
    this.durableEnd = Math.min(this.durableEnd, end);
    if (this.round !== null) {
      this.round.endOffset = Math.min(this.round.endOffset, end);
    }
    this.epochs = this.epochs.filter((entry) => entry.startOffset < end);
    this.writeNext();
    return end;
  }
  /** Cuts the segment files at the batch holding `offset`; returns the new end. */
  truncateSegments(offset) {
    const at2 = this.segments.findIndex((segment2) => segment2.endOffset > offset);
    assert(at2 >= 0, "a truncation point inside no segment");
    for (const segment2 of this.segments.slice(at2 + 1)) {
      this.disk.remove(segment2.logFile);
      this.disk.remove(segment2.indexFile);
      this.unsynced.delete(segment2.logFile);
    }
    this.segments.length = at2 + 1;
    const segment = this.segments[at2];
    if (this.deferredCut !== void 0 && !this.segments.includes(this.deferredCut.segment)) {
      this.deferredCut = void 0;
    }
    const { position, batch } = this.findBatch(segment, offset);
    if (position === 0 && at2 > 0 && batch.baseOffset <= offset) {
      this.disk.remove(segment.logFile);
      this.disk.remove(segment.indexFile);
      this.unsynced.delete(segment.logFile);
      this.segments.length = at2;
      if (this.deferredCut?.segment === segment) {
        this.deferredCut = void 0;
      }
      return batch.baseOffset;
    }
    if (this.recoveryPoint !== void 0) {
      segment.sizeBytes = position;
      segment.sealed = true;
      segment.index = segment.index.filter((entry) => entry.position < position);
      this.deferredCut = { segment, position };
      this.markDue = true;
    } else {
      this.shrink(segment, position);
    }
    segment.endOffset = Math.min(batch.baseOffset, offset);
    return segment.endOffset;
  }
  /** Cuts a segment file (and its index) at `position` and seals it. */
  shrink(segment, position) {
    this.disk.truncate(segment.logFile, position);
    segment.sizeBytes = position;
    segment.sealed = true;
    const entries = segment.index.filter((entry) => entry.position < position);
    if (entries.length !== segment.index.length) {
      segment.index = entries;
      this.writeIndex(segment);
    }
    this.unsynced.add(segment.logFile);
  }
  /** Empties the log and starts it again at `offset` (a follower far behind its leader's start). */
  truncateFullyAndStartAt(offset) {
    this.deferredCut = void 0;
    for (const segment2 of this.segments) {
      this.disk.remove(segment2.logFile);
      this.disk.remove(segment2.indexFile);
    }
    this.unsynced.clear();
    this.pending = [];
    this.epochs = [];
    const segment = {
      baseOffset: offset,
      logFile: segmentName(this.config.dir, offset, ".log"),
      indexFile: segmentName(this.config.dir, offset, ".index"),
      sizeBytes: 0,
      endOffset: offset,
      index: [],
      bytesSinceIndex: 0,
      sealed: false
    };
    this.disk.truncate(segment.logFile, 0);
    this.segments = [segment];
    this.logStart = offset;
    this.logEnd = offset;
    this.durableEnd = offset;
    if (this.round !== null) {
      this.round.endOffset = offset;
    }
    this.markDue ||= this.recoveryPoint !== void 0 && this.marked !== offset;
  }
  /**
   * Retention: deletes whole segments from the front while the log is over `bytesMax`, never
   * one holding an offset at or above `keepFrom` (the high watermark, say) and never the last.
   * Returns the new log start offset.
   */
  deleteOldSegments(bytesMax, keepFrom) {
    let total = this.sizeBytes;
    return this.deleteFront((oldest) => {
      if (total <= bytesMax || oldest.endOffset > keepFrom) {
        return false;
      }
      total -= oldest.sizeBytes;
      return true;
    });
  }
  /**
   * A follower's log start follows its leader's: deletes the segments wholly below `offset`
   * (never the last). The start may stay below `offset`, at a segment boundary of this log.
   * Returns the new log start offset.
   */
  advanceLogStartTo(offset) {
    return this.deleteFront((oldest) => oldest.endOffset <= offset);
  }
  /** Deletes segments from the front while `deletable` says so, keeping the last. */
  deleteFront(deletable) {
    for (let guard = 0; guard < SEGMENTS_MAX && this.segments.length > 1; guard++) {
      const oldest = this.segments[0];
      if (!deletable(oldest)) {
        break;
      }
      this.segments.shift();
      this.disk.remove(oldest.logFile);
      this.disk.remove(oldest.indexFile);
      this.unsynced.delete(oldest.logFile);
      this.unsynced.delete(oldest.indexFile);
      this.logStart = this.segments[0].baseOffset;
    }
    const from2 = this.epochs.findLastIndex((entry) => entry.startOffset <= this.logStart);
    if (from2 > 0) {
      this.epochs = this.epochs.slice(from2);
    }
    if (this.epochs[0] !== void 0 && this.epochs[0].startOffset < this.logStart) {
      this.epochs[0] = { epoch: this.epochs[0].epoch, startOffset: this.logStart };
    }
    return this.logStart;
  }
  // ---- compaction (the offsets partition) ------------------------------------------------
  /**
   * Compaction, one segment at a time: of the segments wholly below `keepFrom` (never the
   * active one), rewrites the oldest holding a record that a newer record of the same key
   * (`keyOf`; undefined: never dropped) below `keepFrom` supersedes, keeping every other
   * record at its offset. A segment's last record and the first record of each leader epoch
   * stay too, so segment bounds and the epoch cache read back the same after a crash. The
   * copy is written beside the segment, fsynced, and only then renamed over it. Returns
   * whether a rewrite started.
   */
  compact(keepFrom, keyOf) {
    assert(this.config.compacted === true, "compaction of a log not configured as compacted");
    if (this.cleaning !== null) {
      return false;
    }
    for (let guard = 0; guard < SEGMENTS_MAX && this.compactionQueue.length > 0; guard++) {
      const next = this.compactionQueue.shift();
      if (this.segments.includes(next.segment) && next.segment.sizeBytes === next.sourceBytes) {
        this.startCleaning(next.segment, next.kept);
        return true;
      }
    }
    const cleanable = this.segments.slice(0, -1).filter((segment) => segment.endOffset <= keepFrom && segment.sizeBytes > 0);
    const last = cleanable[cleanable.length - 1];
    const fresh = cleanable.filter((segment) => segment.endOffset > this.compactionCheckedTo);
    if (last === void 0 || fresh.length < COMPACTION_FRESH_SEGMENTS_MIN) {
      return false;
    }
    this.compactionCheckedTo = last.endOffset;
    const records = this.read(this.logStart, Number.MAX_SAFE_INTEGER)?.filter(
      (record2) => record2.offset < last.endOffset
    );
    const newest = /* @__PURE__ */ new Map();
    for (const record2 of records ?? []) {
      const key2 = record2.payload.length === 0 ? void 0 : keyOf(record2.payload);
      if (key2 !== void 0) {
        newest.set(key2, record2.offset);
      }
    }
    const epochStarts = new Set(this.epochs.map((entry) => entry.startOffset));
    for (const segment of cleanable) {
      const held = (records ?? []).filter(
        (record2) => record2.offset >= segment.baseOffset && record2.offset < segment.endOffset
      );
      const kept = held.filter((record2, at2) => {
        const key2 = keyOf(record2.payload);
        return key2 === void 0 || newest.get(key2) === record2.offset || at2 === held.length - 1 || epochStarts.has(record2.offset);
      });
      if (kept.length < held.length) {
        this.compactionQueue.push({ segment, sourceBytes: segment.sizeBytes, kept });
      }
    }
    const first = this.compactionQueue.shift();
    if (first === void 0) {
      return false;
    }
    this.startCleaning(first.segment, first.kept);
    return true;
  }
  startCleaning(segment, kept) {
    const batches = [];
    for (const record2 of kept) {
      const previous = batches[batches.length - 1];
      if (previous !== void 0 && previous.leaderEpoch === record2.leaderEpoch && lastOffsetOf(previous) + 1 === record2.offset && previous.records.length < CHUNK_BATCHES_MAX) {
        previous.records.push(record2.payload);
        continue;
      }
      batches.push({
        baseOffset: record2.offset,
        leaderEpoch: record2.leaderEpoch,
        producerId: -1,
        producerEpoch: 0,
        baseSequence: -1,
        records: [record2.payload]
      });
    }
    const chunk = this.nextChunk - 1;
    let written = 0;
    const parts = batches.map((batch, at3) => {
      const part = encodeBatch2(batch, Math.max(0, chunk), at3 === batches.length - 1, written);
      written += part.length;
      return part;
    });
    const data = new Uint8Array(written);
    const shadow = { ...segment, index: [], bytesSinceIndex: 0, sizeBytes: 0 };
    let at2 = 0;
    for (const [position, part] of parts.entries()) {
      data.set(part, at2);
      this.indexBatch(shadow, batches[position], at2, part.length);
      at2 += part.length;
    }
    const file = `${segment.logFile}${CLEANED_SUFFIX}`;
    this.disk.remove(file);
    this.disk.write(file, 0, data);
    this.cleaning = {
      segment,
      file,
      syncId: this.disk.fsync(file),
      sourceBytes: segment.sizeBytes,
      sizeBytes: data.length,
      index: shadow.index,
      bytesSinceIndex: shadow.bytesSinceIndex
    };
  }
  finishCleaning(cleaning) {
    this.cleaning = null;
    const { segment } = cleaning;
    if (!this.segments.includes(segment) || segment.sizeBytes !== cleaning.sourceBytes) {
      this.disk.remove(cleaning.file);
      return;
    }
    this.disk.rename(cleaning.file, segment.logFile);
    this.unsynced.delete(segment.logFile);
    segment.sizeBytes = cleaning.sizeBytes;
    segment.index = cleaning.index;
    segment.bytesSinceIndex = cleaning.bytesSinceIndex;
    segment.sealed = true;
    this.writeIndex(segment);
  }
  // ---- reads -------------------------------------------------------------------------------
  /**
   * The records from `fromOffset` on, whole batches up to about `maxBytes` (at least one
   * batch), from the segment files and then the pending appends. Undefined when `fromOffset`
   * is outside [logStartOffset, logEndOffset]. Reads are checked: a batch that fails its CRC
   * is read again; one that never reads right stops the process.
   */
  read(fromOffset, maxBytes) {
    if (fromOffset < this.logStart || fromOffset > this.logEnd) {
      return void 0;
    }
    const out = [];
    let bytes = 0;
    let next = fromOffset;
    for (const segment of this.segments) {
      if (segment.endOffset <= next) {
        continue;
      }
      let { position } = this.indexLookup(segment, next);
      for (let guard = 0; guard < FETCH_BATCHES_MAX && position < segment.sizeBytes; guard++) {
        if (bytes >= maxBytes && out.length > 0) {
          return out;
        }
        const batch = this.readBatch(segment, position);
        position += batch.sizeBytes;
        if (lastOffsetOf(batch) < next) {
          continue;
        }
        bytes += batch.sizeBytes;
        next = this.collect(batch, next, out);
      }
    }
    for (const batch of this.pending) {
      if (bytes >= maxBytes && out.length > 0) {
        break;
      }
      if (lastOffsetOf(batch) < next) {
        continue;
      }
      bytes += BATCH_HEADER_BYTES + batch.records.reduce((sum, record2) => sum + record2.length, 0);
      next = this.collect(batch, next, out);
    }
    return out;
  }
  /**
   * The record at `offset` as the files hold it now, for checkers (`Disk.peek`: no faults, no
   * retries, no exit, nothing drawn): undefined when the log does not hold it, or when what
   * is stored there no longer decodes (a media fault the broker has not read back yet).
   */
  peekRecord(offset) {
    if (offset < this.logStart || offset >= this.logEnd) {
      return void 0;
    }
    const found = [];
    for (const segment of this.segments) {
      if (segment.endOffset <= offset) {
        continue;
      }
      let { position } = this.indexLookup(segment, offset);
      for (let guard = 0; guard < FETCH_BATCHES_MAX && position < segment.sizeBytes; guard++) {
        const batch = this.batchAt(segment, position, this.peekAtDisk);
        if (typeof batch === "string") {
          return void 0;
        }
        if (lastOffsetOf(batch) >= offset) {
          this.collect(batch, offset, found);
          return found[0]?.offset === offset ? found[0] : void 0;
        }
        position += batch.sizeBytes;
      }
      return void 0;
    }
    for (const batch of this.pending) {
      if (lastOffsetOf(batch) >= offset) {
        this.collect(batch, offset, found);
        return found[0]?.offset === offset ? found[0] : void 0;
      }
    }
    return void 0;
  }
  collect(batch, from2, out) {
    for (const [at2, payload] of batch.records.entries()) {
      const offset = batch.baseOffset + at2;
      if (offset < from2) {
        continue;
      }
      out.push({
        offset,
        leaderEpoch: batch.leaderEpoch,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        sequence: batch.producerId < 0 ? -1 : batch.baseSequence + at2,
        payload,
        batchBaseOffset: batch.baseOffset
      });
    }
    return lastOffsetOf(batch) + 1;
  }
  /** The last index entry at or below `offset`. */
  indexLookup(segment, offset) {
    const relative = offset - segment.baseOffset;
    let low = 0;
    let high = segment.index.length - 1;
    let found = { relativeOffset: 0, position: 0 };
    while (low <= high) {
      const middle = low + high >> 1;
      const entry = segment.index[middle];
      if (entry.relativeOffset <= relative) {
        found = entry;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
  /** The batch at `position`, read with `read` (the disk's read, or its peek for checkers). */
  batchAt(segment, position, read) {
    const header = read(segment.logFile, position, BATCH_HEADER_BYTES);
    const length = header.length === BATCH_HEADER_BYTES ? getU32(header, 0) : 0;
    const sizeBytes = Math.min(
      BATCH_HEADER_BYTES + length,
      BATCH_BYTES_MAX,
      segment.sizeBytes - position
    );
    return decodeBatchAt(read(segment.logFile, position, sizeBytes), 0, position);
  }
  readBatch(segment, position) {
    let reason = "";
    for (let attempt = 0; attempt < READ_ATTEMPTS_MAX3; attempt++) {
      const batch = this.batchAt(segment, position, this.readFromDisk);
      if (typeof batch !== "string") {
        return batch;
      }
      reason = batch;
    }
    throw new ProcessExit(
      `${segment.logFile} at byte ${position} never reads back valid: ${reason}`
    );
  }
  findBatch(segment, offset) {
    let { position } = this.indexLookup(segment, offset);
    for (let guard = 0; guard < SEGMENTS_MAX * FETCH_BATCHES_MAX && position < segment.sizeBytes; guard++) {
      const batch = this.readBatch(segment, position);
      if (lastOffsetOf(batch) >= offset) {
        return { position, batch };
      }
      position += batch.sizeBytes;
    }
    fail(`offset ${offset} is in no batch of ${segment.logFile}`);
  }
  // ---- leader epochs (KIP-101) -------------------------------------------------------------
  /**
   * What a leader answers a follower's OffsetsForLeaderEpoch request: the largest epoch it
   * knows at or below `epoch`, and the offset where that epoch ended here (the start of the
   * next epoch, or the log end for the latest). {-1, -1} when it knows none.
   */
  endOffsetForEpoch(epoch) {
    const at2 = this.epochs.findLastIndex((entry2) => entry2.epoch <= epoch);
    if (at2 < 0) {
      return { epoch: -1, endOffset: -1 };
    }
    const entry = this.epochs[at2];
    const next = this.epochs[at2 + 1];
    return { epoch: entry.epoch, endOffset: next === void 0 ? this.logEnd : next.startOffset };
  }
};

// systems/kafka/producer-state.ts
var PRODUCER_BATCHES_KEPT = 5;
var PRODUCERS_MAX = 4096;
var SNAPSHOT_MAGIC2 = 1347636786;
var SNAPSHOT_HEADER_BYTES = 8;
var SNAPSHOTS_MAX = 4096;
var SUFFIX = ".snapshot";
function offsetOfRetry(entry, firstSequence, lastSequence) {
  assert(firstSequence <= lastSequence, "a retry covers at least one sequence");
  for (const batch of entry.batches) {
    if (batch.firstSequence <= firstSequence && lastSequence <= batch.lastSequence) {
      return batch.firstOffset + (firstSequence - batch.firstSequence);
    }
  }
  return void 0;
}
function encodeProducerSnapshot(offset, producers) {
  let bodyBytes = 4 + 8 + 4;
  for (const entry of producers.values()) {
    bodyBytes += 8 + 4 + 1 + entry.batches.length * 16;
  }
  const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES + bodyBytes);
  const view = new DataView(bytes.buffer);
  let at2 = SNAPSHOT_HEADER_BYTES;
  view.setUint32(at2, SNAPSHOT_MAGIC2);
  view.setFloat64(at2 + 4, offset);
  view.setUint32(at2 + 12, producers.size);
  at2 += 16;
  for (const [producerId, entry] of producers) {
    assert(entry.batches.length <= PRODUCER_BATCHES_KEPT, "too many batches kept for one producer");
    view.setFloat64(at2, producerId);
    view.setInt32(at2 + 8, entry.lastSequence);
    view.setUint8(at2 + 12, entry.batches.length);
    at2 += 13;
    for (const batch of entry.batches) {
      view.setInt32(at2, batch.firstSequence);
      view.setInt32(at2 + 4, batch.lastSequence);
      view.setFloat64(at2 + 8, batch.firstOffset);
      at2 += 16;
    }
  }
  view.setUint32(0, crc323(bytes.subarray(SNAPSHOT_HEADER_BYTES)));
  view.setUint32(4, bodyBytes);
  return bytes;
}
function decodeProducerSnapshot(bytes) {
  if (bytes.length < SNAPSHOT_HEADER_BYTES + 16) {
    return `snapshot of ${bytes.length} bytes is too short`;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyBytes = view.getUint32(4);
  if (bodyBytes !== bytes.length - SNAPSHOT_HEADER_BYTES) {
    return `snapshot says ${bodyBytes} body bytes, holds ${bytes.length - SNAPSHOT_HEADER_BYTES}`;
  }
  if (crc323(bytes.subarray(SNAPSHOT_HEADER_BYTES)) !== view.getUint32(0)) {
    return "snapshot fails its checksum";
  }
  let at2 = SNAPSHOT_HEADER_BYTES;
  if (view.getUint32(at2) !== SNAPSHOT_MAGIC2) {
    return "snapshot has the wrong magic number";
  }
  const offset = view.getFloat64(at2 + 4);
  const count2 = view.getUint32(at2 + 12);
  at2 += 16;
  const producers = /* @__PURE__ */ new Map();
  for (let index = 0; index < count2; index++) {
    if (at2 + 13 > bytes.length) {
      return "snapshot ends inside a producer";
    }
    const producerId = view.getFloat64(at2);
    const lastSequence = view.getInt32(at2 + 8);
    const batches = view.getUint8(at2 + 12);
    at2 += 13;
    if (batches > PRODUCER_BATCHES_KEPT || at2 + batches * 16 > bytes.length) {
      return "snapshot ends inside a producer";
    }
    const kept = [];
    for (let batch = 0; batch < batches; batch++) {
      const firstSequence = view.getInt32(at2);
      const batchLastSequence = view.getInt32(at2 + 4);
      if (batchLastSequence < firstSequence) {
        return "snapshot holds a batch that ends before it starts";
      }
      kept.push({
        firstSequence,
        lastSequence: batchLastSequence,
        firstOffset: view.getFloat64(at2 + 8)
      });
      at2 += 16;
    }
    producers.set(producerId, { lastSequence, batches: kept });
  }
  if (at2 !== bytes.length || !Number.isSafeInteger(offset) || offset < 0) {
    return "snapshot is malformed";
  }
  return { offset, producers };
}
var ProducerState = class {
  constructor(disk, dir, snapshots) {
    this.disk = disk;
    this.dir = dir;
    this.snapshots = snapshots;
  }
  disk;
  dir;
  snapshots;
  producers = /* @__PURE__ */ new Map();
  /** Snapshot offsets whose files are durable, ascending. */
  durable = [];
  /** fsyncs in flight: sync id → snapshot offset. */
  syncing = /* @__PURE__ */ new Map();
  /** A batch of `count` records from `firstSequence` was appended at `firstOffset`. */
  note(producerId, firstSequence, count2, firstOffset) {
    assert(count2 >= 1, "a batch holds a record");
    if (producerId < 0) {
      return;
    }
    let entry = this.producers.get(producerId);
    if (entry === void 0) {
      if (this.producers.size >= PRODUCERS_MAX) {
        return;
      }
      entry = { lastSequence: -1, batches: [] };
      this.producers.set(producerId, entry);
    }
    const lastSequence = firstSequence + count2 - 1;
    entry.lastSequence = lastSequence;
    const last = entry.batches[entry.batches.length - 1];
    const continues = last !== void 0 && last.lastSequence + 1 === firstSequence && last.firstOffset + (last.lastSequence - last.firstSequence) + 1 === firstOffset;
    if (continues) {
      last.lastSequence = lastSequence;
      return;
    }
    entry.batches.push({ firstSequence, lastSequence, firstOffset });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) {
      entry.batches.shift();
    }
  }
  snapshotName(offset) {
    return `${this.dir}${String(offset).padStart(20, "0")}${SUFFIX}`;
  }
  /** Snapshot offsets on disk, ascending. */
  snapshotOffsets() {
    const offsets = this.disk.list().filter((name) => name.startsWith(this.dir) && name.endsWith(SUFFIX)).map((name) => name.slice(this.dir.length, -SUFFIX.length)).filter((base) => /^\d{20}$/.test(base)).map(Number).sort((a, b) => a - b);
    assert(offsets.length <= SNAPSHOTS_MAX, `partition ${this.dir} has too many snapshots`);
    return offsets;
  }
  /**
   * Rebuilds the state from the log (after a restart or a truncation): the newest valid
   * snapshot inside [logStartOffset, logEndOffset], then the log's records from its offset.
   * Snapshots outside the log, or that fail their checksum, are deleted.
   */
  rebuild(log) {
    this.producers.clear();
    let from2 = log.logStartOffset;
    if (this.snapshots) {
      const kept = [];
      let loaded = false;
      for (const offset of this.snapshotOffsets().reverse()) {
        const name = this.snapshotName(offset);
        if (offset < log.logStartOffset || offset > log.logEndOffset) {
          this.remove(offset);
          continue;
        }
        if (!loaded) {
          const snapshot = decodeProducerSnapshot(readStable(this.disk, name));
          if (typeof snapshot === "string" || snapshot.offset !== offset) {
            this.remove(offset);
            continue;
          }
          for (const [producerId, entry] of snapshot.producers) {
            this.producers.set(producerId, entry);
          }
          from2 = offset;
          loaded = true;
        }
        if (![...this.syncing.values()].includes(offset)) {
          kept.push(offset);
        }
      }
      this.durable = kept.sort((a, b) => a - b);
    }
    if (from2 < log.logEndOffset || !this.snapshots) {
      const records = log.read(from2, Number.MAX_SAFE_INTEGER) ?? [];
      for (const record2 of records) {
        this.note(record2.producerId, record2.sequence, 1, record2.offset);
      }
    }
  }
  /** Writes a snapshot of the state: every record below `offset` (the log end) is in it. */
  takeSnapshot(offset) {
    if (!this.snapshots || this.durable.includes(offset)) {
      return;
    }
    const name = this.snapshotName(offset);
    this.disk.remove(name);
    this.disk.write(name, 0, encodeProducerSnapshot(offset, this.producers));
    this.syncing.set(this.disk.fsync(name), offset);
  }
  /** An fsync finished; false when it was not one of these snapshots'. */
  onSynced(syncId, ok) {
    const offset = this.syncing.get(syncId);
    if (offset === void 0) {
      return false;
    }
    this.syncing.delete(syncId);
    if (!ok) {
      throw new ProcessExit(`fsync of a producer snapshot of ${this.dir} failed`);
    }
    if (this.disk.exists(this.snapshotName(offset)) && !this.durable.includes(offset)) {
      this.durable.push(offset);
      this.durable.sort((a, b) => a - b);
    }
    return true;
  }
  /**
   * How far segments may be deleted from the front without leaving the state short after a
   * crash: the newest durable snapshot at or below `durableLogEnd` (a snapshot ahead of the
   * durable log could be lost with the log's tail). 0 with none; the log start with
   * snapshots off (nothing may go).
   */
  deletableBelow(durableLogEnd) {
    const usable = this.durable.filter((offset) => offset <= durableLogEnd);
    return usable[usable.length - 1] ?? 0;
  }
  /** The log start moved up: snapshots below it describe records no longer held. */
  deleteBelow(logStartOffset) {
    for (const offset of this.snapshotOffsets()) {
      if (offset < logStartOffset && this.durable.some((kept) => kept > offset)) {
        this.remove(offset);
      }
    }
  }
  /** The log was cut to `logEndOffset`: snapshots above it describe records it lost. */
  deleteAbove(logEndOffset) {
    for (const offset of this.snapshotOffsets()) {
      if (offset > logEndOffset) {
        this.remove(offset);
      }
    }
  }
  /** The log was emptied (a follower restarting at its leader's log start). */
  clearAll() {
    for (const offset of this.snapshotOffsets()) {
      this.remove(offset);
    }
    this.producers.clear();
  }
  remove(offset) {
    this.disk.remove(this.snapshotName(offset));
    this.durable = this.durable.filter((kept) => kept !== offset);
    for (const [syncId, syncing] of this.syncing) {
      if (syncing === offset) {
        this.syncing.delete(syncId);
      }
    }
  }
};

// systems/kafka/broker.ts
var TICK_US = 1e4;
var HW_CHECKPOINT_EVERY_US = 1e6;
var HW_CHECKPOINT_FILE = "replication-offset-checkpoint";
var CHECKPOINT_PARTITIONS_MAX = 16;
var FETCH_BYTES_MAX = 4096;
var PENDING_PRODUCE_MAX = 1024;
var COMPACTION_LAG_OFFSETS = 16;
var ALTER_BACKOFF_US = 1e5;
var LOAD_READS_MAX = 1e5;
var Replica = class {
  constructor(key2, replicas, log, producerState) {
    this.key = key2;
    this.replicas = replicas;
    this.log = log;
    this.producerState = producerState;
    this.producers = producerState.producers;
  }
  key;
  replicas;
  log;
  role = "offline";
  leader = -1;
  leaderEpoch = 0;
  partitionEpoch = 0;
  isr = [];
  highWatermark = 0;
  /**
   * As leader: its log end when it took this leader epoch (Kafka's leader epoch start
   * offset). A follower is readmitted only once its log is durable up to there: below it lie
   * records the previous leader may have committed that this one's HW does not show yet.
   */
  epochStartOffset = 0;
  followers = /* @__PURE__ */ new Map();
  producerState;
  producers;
  /** The active segment's base offset at the last producer snapshot (-1: none yet). */
  snapshotBase = -1;
  pending = [];
  fetchSentUs = -1;
  /** The fetchId of the fetch whose response this follower awaits (-1: none). */
  outstandingFetchId = -1;
  alterInFlight = null;
  /** After a refused AlterPartition, none before this (monotonic µs). */
  alterRetryAtUs = 0;
  /**
   * Brokers this leader asked the controller to readmit, with the partition epoch it asked
   * at, whose fate it does not know yet: the controller may have accepted (and may elect
   * them), so the HW counts them as in the ISR (Kafka's "maximal ISR") until a partition state
   * past that epoch says how it went. A timeout settles nothing.
   */
  pendingIsr = /* @__PURE__ */ new Map();
  /** The epoch of the record just below `offset`, -1 when none. */
  epochBelow(offset) {
    const entries = this.log.epochEntries;
    for (let at2 = entries.length - 1; at2 >= 0; at2--) {
      const entry = entries[at2];
      if (entry.startOffset < offset) {
        return entry.epoch;
      }
    }
    return -1;
  }
  noteProducer(producerId, firstSequence, count2, firstOffset) {
    this.producerState.note(producerId, firstSequence, count2, firstOffset);
  }
  /** Rebuilds producer state from its snapshot and the log (after a restart or a truncation). */
  rebuildProducers() {
    this.producerState.rebuild(this.log);
  }
};
var BrokerNode = class {
  constructor(ctx, bugs = /* @__PURE__ */ new Set()) {
    this.ctx = ctx;
    this.config = kafkaConfig(ctx.workload);
    this.bugs = bugs;
    this.controllers = ctx.members("controllers");
    this.controller = this.controllers[0];
    this.coordinator = this.config.consumerGroups ? new GroupCoordinator(
      {
        now: () => this.ctx.monotonic(),
        append: (payloads) => this.appendOffsets(payloads),
        reply: (client, reply) => this.reply(client, reply),
        observe: (observation) => this.ctx.observe(observation)
      },
      this.config,
      this.bugs.has("stale-generation-commit-accepted")
    ) : void 0;
    this.hwCheckpoint = new DurableCell(ctx, HW_CHECKPOINT_FILE, parseHwCheckpoint);
  }
  ctx;
  config;
  bugs;
  replicas = /* @__PURE__ */ new Map();
  controllers;
  controller;
  session = 0;
  /**
   * Partitions whose logs recovery found damaged (records that had been durable: a media
   * fault), with why. Such a log is never served, replicated from or cut to fit (an
   * acknowledged record may be gone from it): the broker registers with the damage, the
   * controllers take it out of those partitions' ISRs (even as the last member) and
   * leaderships, and only once they have let this session in does it delete the damaged
   * copy and copy the partition afresh from its leader, as a follower outside the ISR until
   * it has caught up. Its healthy partitions carry on meanwhile (as Kafka does with one
   * failed log directory of several).
   */
  damaged = /* @__PURE__ */ new Map();
  /** The newest state the controllers sent for each partition, ours or not. */
  partitionStates = /* @__PURE__ */ new Map();
  metadataVersion = 0;
  fenced = true;
  /** Leaders of every partition as this broker last heard, for clients' metadata requests. */
  leaders = /* @__PURE__ */ new Map();
  nextAlterId = 1;
  /** Replica fetch correlation ids, unique within this session (fetches carry both). */
  nextFetchId = 1;
  view;
  /** With consumer groups: active while this broker leads the offsets partition. */
  coordinator;
  hwCheckpoint;
  hwCheckpointDueUs = 0;
  /** The high watermarks last saved (or being saved), to skip a save that changes nothing. */
  hwCheckpointed = {};
  onStart() {
    this.session = 1 + this.ctx.random.int(2 ** 30);
    const checkpoint = this.hwCheckpoint.load() ?? {};
    this.hwCheckpointed = checkpoint;
    this.hwCheckpointDueUs = this.ctx.monotonic() + HW_CHECKPOINT_EVERY_US;
    for (const { key: key2, replicas } of allPartitionsLayout(
      this.config,
      this.ctx.members(this.ctx.group)
    )) {
      if (replicas.includes(this.ctx.id)) {
        this.openReplica(key2, replicas, checkpoint[key2] ?? 0);
      }
    }
    assert(this.replicas.size <= CHECKPOINT_PARTITIONS_MAX, "too many partitions to checkpoint");
    this.heartbeat();
    this.ctx.setTimer(TICK_US, "tick");
  }
  /** Opens this broker's copy of a partition from its files; a damaged one stays closed. */
  openReplica(key2, replicas, checkpointedHw) {
    const { log, recovery } = PartitionLog2.open(this.ctx.disk, {
      ...DEFAULT_PARTITION_LOG_CONFIG,
      segmentBytes: this.config.segmentBytes,
      dir: `${key2}/`,
      compacted: key2 === OFFSETS_KEY && this.config.compactOffsets,
      recoveryPoints: this.config.recoveryPoints && !this.bugs.has("damaged-tail-cut-as-torn")
    });
    if (recovery.status.kind !== "clean") {
      this.ctx.observe({ type: "kafka-log-recovered", key: key2, status: recovery.status.kind });
    }
    if (recovery.status.kind === "corrupt") {
      this.noteDamage(key2, recovery.status);
      return;
    }
    const producerState = new ProducerState(this.ctx.disk, `${key2}/`, this.retains(key2));
    const replica = new Replica(key2, replicas, log, producerState);
    replica.highWatermark = Math.max(
      log.logStartOffset,
      Math.min(checkpointedHw, log.logEndOffset)
    );
    if (replica.highWatermark > 0) {
      this.ctx.observe({
        type: "kafka-hw-restored",
        key: key2,
        highWatermark: replica.highWatermark,
        logEndOffset: log.logEndOffset
      });
    }
    replica.rebuildProducers();
    replica.snapshotBase = log.activeBaseOffset;
    log.onDurable = () => this.onDurable(replica);
    this.replicas.set(key2, replica);
    this.view = void 0;
  }
  /** Damaged durable records in partition `key`: see `damaged`. */
  noteDamage(key2, status) {
    this.damaged.set(key2, status.reason);
    this.ctx.log("a partition log holds damaged durable records", { key: key2, reason: status.reason });
    this.ctx.observe({
      type: "kafka-corruption-detected",
      key: key2,
      file: status.file,
      offset: status.offset,
      reason: status.reason
    });
  }
  /**
   * The controllers have let this session in, so its registration, and the damage it named,
   * is in the metadata: our copies of the damaged partitions are out of their ISRs. Delete
   * them and start each afresh, empty, as a follower of whatever the metadata says.
   */
  recopyDamaged() {
    for (const key2 of [...this.damaged.keys()].sort()) {
      for (const file of this.ctx.disk.list()) {
        if (file.startsWith(`${key2}/`)) {
          this.ctx.disk.remove(file);
        }
      }
      this.damaged.delete(key2);
      const layout = allPartitionsLayout(this.config, this.ctx.members(this.ctx.group)).find(
        (partition) => partition.key === key2
      );
      if (layout === void 0) {
        fail(`no partition ${key2} in the layout`);
      }
      this.openReplica(key2, layout.replicas, 0);
      this.ctx.observe({ type: "kafka-partition-recopied", key: key2 });
      const state = this.partitionStates.get(key2);
      if (state !== void 0) {
        this.applyPartitionState(state);
      }
    }
  }
  /** Saves the high watermarks when the interval is up and one has moved since the last save. */
  checkpointHighWatermarks(now) {
    if (now < this.hwCheckpointDueUs || this.hwCheckpoint.busy()) {
      return;
    }
    this.hwCheckpointDueUs = now + HW_CHECKPOINT_EVERY_US;
    const highWatermarks = {};
    let moved = false;
    for (const replica of this.replicas.values()) {
      highWatermarks[replica.key] = replica.highWatermark;
      moved ||= this.hwCheckpointed[replica.key] !== replica.highWatermark;
    }
    if (moved) {
      this.hwCheckpointed = highWatermarks;
      this.hwCheckpoint.save(highWatermarks, () => {
      });
    }
  }
  onSynced(syncId, ok) {
    if (this.hwCheckpoint.onSynced(syncId, ok)) {
      return;
    }
    for (const replica of this.replicas.values()) {
      if (replica.log.onSynced(syncId, ok) || replica.producerState.onSynced(syncId, ok)) {
        return;
      }
    }
  }
  onTimer(tag) {
    if (tag === "heartbeat") {
      this.heartbeat();
    } else if (tag === "tick") {
      this.tick();
      this.ctx.setTimer(TICK_US, "tick");
    }
  }
  heartbeat() {
    this.ctx.send(
      this.controller,
      {
        type: "ctl-heartbeat",
        session: this.session,
        version: this.metadataVersion,
        ...this.damaged.size > 0 ? { damaged: [...this.damaged.keys()].sort() } : {}
      },
      32
    );
    this.ctx.setTimer(this.config.heartbeatUs, "heartbeat");
  }
  onMessage(from2, message) {
    switch (message.type) {
      case "ctl-not-leader":
      case "ctl-heartbeat-ok":
      case "ctl-alter-result":
        this.onControllerReply(from2, message);
        return;
      case "replica-fetch":
        this.onReplicaFetch(from2, message);
        return;
      case "replica-fetch-response":
        this.onReplicaFetchResponse(from2, message);
        return;
      case "produce":
      case "consume":
      case "metadata":
        this.onClientRequest(from2, message);
        return;
      case "find-coordinator":
      case "join-group":
      case "sync-group":
      case "group-heartbeat":
      case "leave-group":
      case "offset-commit":
      case "offset-fetch":
        this.onGroupRequest(from2, message);
        return;
      default:
        return;
    }
  }
  // ---- metadata ----------------------------------------------------------------------------
  onControllerReply(from2, reply) {
    switch (reply.type) {
      case "ctl-not-leader": {
        const at2 = this.controllers.indexOf(this.controller);
        this.controller = reply.hint !== null && this.controllers.includes(reply.hint) ? reply.hint : this.controllers[(at2 + 1) % this.controllers.length];
        return;
      }
      case "ctl-heartbeat-ok": {
        if (reply.session !== this.session) {
          return;
        }
        this.controller = from2;
        const wasFenced = this.fenced;
        this.fenced = reply.fenced;
        if (reply.partitions !== null && reply.version > this.metadataVersion) {
          this.metadataVersion = reply.version;
          for (const partition of reply.partitions) {
            this.applyPartitionState(partition);
          }
        }
        if (!this.fenced && this.damaged.size > 0) {
          this.recopyDamaged();
        }
        if (wasFenced && !this.fenced) {
          for (const replica of this.replicas.values()) {
            if (replica.role === "offline" && replica.leader === this.ctx.id) {
              this.becomeLeader(replica);
            }
          }
        }
        return;
      }
      case "ctl-alter-result": {
        const replica = [...this.replicas.values()].find(
          (candidate2) => candidate2.alterInFlight?.id === reply.id
        );
        if (replica !== void 0) {
          replica.alterInFlight = null;
          if (!reply.ok) {
            replica.alterRetryAtUs = this.ctx.monotonic() + ALTER_BACKOFF_US;
          }
        }
        if (reply.partition !== null) {
          this.applyPartitionState(reply.partition);
        }
        return;
      }
    }
  }
  applyPartitionState(state) {
    this.leaders.set(state.key, state.leader);
    this.partitionStates.set(state.key, state);
    const replica = this.replicas.get(state.key);
    if (replica === void 0 || state.leaderEpoch < replica.leaderEpoch) {
      return;
    }
    const sameEpoch = state.leaderEpoch === replica.leaderEpoch;
    if (sameEpoch && state.partitionEpoch <= replica.partitionEpoch) {
      return;
    }
    replica.partitionEpoch = state.partitionEpoch;
    replica.isr = [...state.isr];
    for (const [node, askedAt] of replica.pendingIsr) {
      if (askedAt < state.partitionEpoch) {
        replica.pendingIsr.delete(node);
      }
    }
    if (sameEpoch && replica.role !== "offline") {
      this.advanceHighWatermark(replica);
      return;
    }
    replica.leaderEpoch = state.leaderEpoch;
    replica.leader = state.leader;
    this.failPending(replica);
    if (replica.key === OFFSETS_KEY) {
      this.coordinator?.deactivate();
    }
    if (state.leader === this.ctx.id && !this.fenced) {
      this.becomeLeader(replica);
    } else if (state.leader >= 0 && state.leader !== this.ctx.id) {
      this.becomeFollower(replica);
    } else {
      replica.role = "offline";
    }
  }
  becomeLeader(replica) {
    replica.role = "leader";
    replica.epochStartOffset = replica.log.logEndOffset;
    replica.followers.clear();
    const now = this.ctx.monotonic();
    for (const node of replica.replicas) {
      if (node !== this.ctx.id) {
        replica.followers.set(node, { logEnd: -1, durable: -1, lastCaughtUpUs: now });
      }
    }
    if (this.bugs.has("no-producer-dedup-after-failover")) {
      replica.producers.clear();
    }
    this.ctx.observe({
      type: "kafka-became-leader",
      key: replica.key,
      leaderEpoch: replica.leaderEpoch,
      logEndOffset: replica.log.logEndOffset,
      latestLogEpoch: replica.log.latestEpoch,
      session: this.session,
      fencesRestarts: this.config.leaderEpochs
    });
    if (replica.key === OFFSETS_KEY && this.coordinator !== void 0) {
      this.coordinator.activate(replica.leaderEpoch, this.readAll(replica), replica.highWatermark);
    }
    this.advanceHighWatermark(replica);
  }
  /** The whole log of a replica as text records, for the coordinator's load. */
  readAll(replica) {
    const out = [];
    let from2 = replica.log.logStartOffset;
    for (let reads = 0; from2 < replica.log.logEndOffset; reads++) {
      assert(reads < LOAD_READS_MAX, "offsets partition load does not end");
      const records = replica.log.read(from2, 64 * FETCH_BYTES_MAX) ?? [];
      const last = records[records.length - 1];
      if (last === void 0) {
        break;
      }
      for (const record2 of records) {
        out.push({ offset: record2.offset, text: payloadText(record2.payload) });
      }
      from2 = last.offset + 1;
    }
    return out;
  }
  /** The coordinator's append to the offsets partition (as its leader, acks=all). */
  appendOffsets(payloads) {
    const replica = this.replicas.get(OFFSETS_KEY);
    if (replica === void 0 || replica.role !== "leader" || replica.isr.length < this.config.minInsyncReplicas) {
      return void 0;
    }
    const { lastOffset } = replica.log.append({
      leaderEpoch: replica.leaderEpoch,
      producerId: -1,
      producerEpoch: 0,
      baseSequence: -1,
      records: payloads.map(textPayload)
    });
    return lastOffset + 1;
  }
  onGroupRequest(client, request) {
    if (this.coordinator === void 0) {
      return;
    }
    if (request.type === "find-coordinator") {
      this.reply(client, {
        type: "find-coordinator-ok",
        id: request.id,
        coordinator: this.leaders.get(OFFSETS_KEY) ?? -1
      });
      return;
    }
    this.coordinator.onRequest(client, request);
  }
  becomeFollower(replica) {
    replica.role = "follower";
    replica.followers.clear();
    replica.alterInFlight = null;
    replica.fetchSentUs = -1;
    if (!this.config.leaderEpochs) {
      this.truncate(replica, replica.highWatermark);
    }
    this.sendFetch(replica);
  }
  // ---- follower ----------------------------------------------------------------------------
  tick() {
    const now = this.ctx.monotonic();
    this.checkpointHighWatermarks(now);
    for (const replica of this.replicas.values()) {
      if (replica.producerState.snapshots) {
        this.retain(replica);
      }
      if (replica.log.config.compacted === true) {
        const keepFrom = Math.min(replica.highWatermark, replica.log.durableEndOffset) - COMPACTION_LAG_OFFSETS;
        if (replica.log.compact(keepFrom, (payload) => offsetsRecordKey(payloadText(payload)))) {
          this.ctx.observe({ type: "kafka-offsets-compacting", key: replica.key });
        }
      }
      if (replica.role === "follower") {
        if (replica.fetchSentUs < 0 || now - replica.fetchSentUs >= this.config.requestTimeoutUs) {
          this.sendFetch(replica);
        }
      } else if (replica.role === "leader") {
        this.leaderTick(replica, now);
      }
    }
    this.coordinator?.tick();
  }
  /** Retention is on for this partition (never for the offsets partition, which is compacted). */
  retains(key2) {
    return this.config.retentionBytes > 0 && key2 !== OFFSETS_KEY;
  }
  /**
   * On every tick, with retention on: a producer-state snapshot once a segment has rolled,
   * then the oldest segments deleted while the log is over retention.bytes, none holding an
   * offset at or above the high watermark or past the newest durable snapshot.
   */
  retain(replica) {
    const log = replica.log;
    if (log.activeBaseOffset !== replica.snapshotBase) {
      replica.producerState.takeSnapshot(log.logEndOffset);
      replica.snapshotBase = log.activeBaseOffset;
    }
    const keepFrom = Math.min(
      replica.highWatermark,
      replica.producerState.deletableBelow(log.durableEndOffset)
    );
    const before2 = log.logStartOffset;
    if (log.deleteOldSegments(this.config.retentionBytes, keepFrom) > before2) {
      this.logStartAdvanced(replica, "retention");
    }
  }
  /** The replica's log start moved up: old snapshots go, and the checkers hear of it. */
  logStartAdvanced(replica, reason) {
    replica.producerState.deleteBelow(replica.log.logStartOffset);
    this.ctx.observe({
      type: "kafka-log-start-advanced",
      key: replica.key,
      reason,
      logStartOffset: replica.log.logStartOffset,
      highWatermark: replica.highWatermark
    });
  }
  sendFetch(replica) {
    const log = replica.log;
    const fetch = {
      type: "replica-fetch",
      key: replica.key,
      fetchId: this.nextFetchId++,
      session: this.session,
      leaderEpoch: replica.leaderEpoch,
      fetchOffset: log.logEndOffset,
      lastFetchedEpoch: this.config.leaderEpochs ? replica.epochBelow(log.logEndOffset) : -1,
      durableOffset: this.ackableEnd(log)
    };
    replica.fetchSentUs = this.ctx.monotonic();
    replica.outstandingFetchId = fetch.fetchId;
    this.ctx.send(replica.leader, fetch, 48);
  }
  onReplicaFetchResponse(from2, response) {
    const replica = this.replicas.get(response.key);
    if (replica === void 0 || replica.role !== "follower" || from2 !== replica.leader || response.fetchId !== replica.outstandingFetchId || response.session !== this.session || response.leaderEpoch !== replica.leaderEpoch || response.fetchOffset !== replica.log.logEndOffset) {
      return;
    }
    replica.outstandingFetchId = -1;
    replica.fetchSentUs = -1;
    if (response.error === "offset-out-of-range") {
      assert(
        response.logStartOffset > replica.log.logEndOffset,
        "out of range only below the leader log start"
      );
      replica.log.truncateFullyAndStartAt(response.logStartOffset);
      replica.producerState.clearAll();
      replica.snapshotBase = replica.log.activeBaseOffset;
      replica.highWatermark = Math.max(replica.highWatermark, response.logStartOffset);
      this.logStartAdvanced(replica, "truncate-fully");
      this.sendFetch(replica);
      return;
    }
    if (response.error !== null) {
      replica.fetchSentUs = this.ctx.monotonic();
      return;
    }
    if (response.diverging !== null) {
      const { epoch, endOffset } = response.diverging;
      const log = replica.log;
      let cut;
      if (epoch < 0) {
        cut = endOffset < 0 ? log.logStartOffset : Math.min(endOffset, log.logEndOffset);
      } else {
        const mine = log.endOffsetForEpoch(epoch);
        cut = mine.epoch < 0 ? log.logStartOffset : Math.min(endOffset, mine.endOffset);
      }
      this.ctx.observe({
        type: "kafka-diverged",
        key: replica.key,
        truncateTo: cut,
        logEndOffset: log.logEndOffset
      });
      this.truncate(replica, cut);
      this.sendFetch(replica);
      return;
    }
    for (const batch of response.batches) {
      const gap = replica.log.config.compacted === true && batch.baseOffset > replica.log.logEndOffset;
      if (batch.baseOffset !== replica.log.logEndOffset && !gap || batch.payloads.length === 0) {
        break;
      }
      replica.log.append(
        {
          leaderEpoch: batch.leaderEpoch,
          producerId: batch.producerId,
          producerEpoch: 0,
          baseSequence: batch.baseSequence,
          records: batch.payloads.map(textPayload)
        },
        batch.baseOffset
      );
      replica.noteProducer(
        batch.producerId,
        batch.baseSequence,
        batch.payloads.length,
        batch.baseOffset
      );
    }
    replica.highWatermark = Math.max(
      replica.highWatermark,
      Math.min(response.highWatermark, replica.log.logEndOffset)
    );
    if (replica.producerState.snapshots && response.logStartOffset > replica.log.logStartOffset) {
      const upTo = Math.min(
        response.logStartOffset,
        replica.highWatermark,
        replica.producerState.deletableBelow(replica.log.durableEndOffset)
      );
      const before2 = replica.log.logStartOffset;
      if (replica.log.advanceLogStartTo(upTo) > before2) {
        this.logStartAdvanced(replica, "leader-log-start");
      }
    }
    if (response.batches.length > 0) {
      this.sendFetch(replica);
    } else {
      replica.fetchSentUs = this.ctx.monotonic() - this.config.requestTimeoutUs + this.config.fetchIntervalUs;
    }
  }
  truncate(replica, offset) {
    if (offset >= replica.log.logEndOffset) {
      return;
    }
    const fully = offset <= replica.log.logStartOffset;
    replica.log.truncateTo(offset);
    replica.highWatermark = Math.min(replica.highWatermark, replica.log.logEndOffset);
    if (fully) {
      replica.producerState.clearAll();
    } else {
      replica.producerState.deleteAbove(replica.log.logEndOffset);
    }
    replica.rebuildProducers();
    replica.snapshotBase = replica.log.activeBaseOffset;
  }
  // ---- leader ------------------------------------------------------------------------------
  onReplicaFetch(from2, fetch) {
    const replica = this.replicas.get(fetch.key);
    const respond = (fields, sizeBytes = 48) => {
      const response = {
        type: "replica-fetch-response",
        key: fetch.key,
        fetchId: fetch.fetchId,
        session: fetch.session,
        leaderEpoch: fetch.leaderEpoch,
        fetchOffset: fetch.fetchOffset,
        error: null,
        diverging: null,
        batches: [],
        highWatermark: replica?.highWatermark ?? 0,
        logStartOffset: replica?.log.logStartOffset ?? 0,
        ...fields
      };
      this.ctx.send(from2, response, sizeBytes);
    };
    if (replica === void 0 || replica.role !== "leader") {
      respond({ error: "not-leader" });
      return;
    }
    if (fetch.leaderEpoch !== replica.leaderEpoch) {
      respond({
        error: fetch.leaderEpoch < replica.leaderEpoch ? "fenced-epoch" : "unknown-epoch"
      });
      return;
    }
    const log = replica.log;
    if (fetch.fetchOffset < log.logStartOffset) {
      respond({ error: "offset-out-of-range" });
      return;
    }
    const here = log.endOffsetForEpoch(fetch.lastFetchedEpoch);
    const diverged = fetch.fetchOffset > log.logEndOffset || fetch.lastFetchedEpoch >= 0 && (here.epoch !== fetch.lastFetchedEpoch || here.endOffset < fetch.fetchOffset);
    if (diverged) {
      respond({
        diverging: fetch.lastFetchedEpoch >= 0 ? here : { epoch: -1, endOffset: log.logEndOffset }
      });
      return;
    }
    const follower = replica.followers.get(from2);
    if (follower !== void 0) {
      follower.logEnd = fetch.fetchOffset;
      follower.durable = Math.min(fetch.durableOffset, fetch.fetchOffset);
      if (fetch.fetchOffset >= log.logEndOffset) {
        follower.lastCaughtUpUs = this.ctx.monotonic();
      }
      this.maybeExpandIsr(replica, from2, follower);
      this.advanceHighWatermark(replica);
    }
    const records = log.read(fetch.fetchOffset, FETCH_BYTES_MAX) ?? [];
    const batches = toWireBatches(records);
    respond({ batches, highWatermark: replica.highWatermark }, 48 + 16 * records.length);
  }
  maybeExpandIsr(replica, node, follower) {
    if (replica.isr.includes(node) || replica.alterInFlight !== null) {
      return;
    }
    const caughtUp = follower.durable >= replica.highWatermark && follower.durable >= replica.epochStartOffset;
    if (caughtUp) {
      this.alterIsr(replica, [...replica.isr, node]);
    }
  }
  leaderTick(replica, now) {
    if (replica.alterInFlight !== null && now - replica.alterInFlight.sentUs > this.config.requestTimeoutUs) {
      replica.alterInFlight = null;
    }
    this.expirePending(replica);
    if (replica.alterInFlight !== null) {
      return;
    }
    const lagging = replica.isr.filter((node) => {
      const follower = replica.followers.get(node);
      return node !== this.ctx.id && follower !== void 0 && now - follower.lastCaughtUpUs > this.config.replicaLagMaxUs;
    });
    if (lagging.length > 0) {
      this.alterIsr(
        replica,
        replica.isr.filter((node) => !lagging.includes(node))
      );
    }
  }
  alterIsr(replica, isr) {
    if (this.ctx.monotonic() < replica.alterRetryAtUs) {
      return;
    }
    const id = this.nextAlterId++;
    replica.alterInFlight = { id, sentUs: this.ctx.monotonic() };
    for (const node of isr) {
      if (!replica.isr.includes(node)) {
        replica.pendingIsr.set(node, replica.partitionEpoch);
      }
    }
    this.ctx.send(
      this.controller,
      {
        type: "ctl-alter-partition",
        id,
        key: replica.key,
        leaderEpoch: replica.leaderEpoch,
        partitionEpoch: replica.partitionEpoch,
        isr
      },
      48
    );
    if (this.bugs.has("hw-advanced-before-isr-ack") && isr.length < replica.isr.length) {
      replica.isr = isr;
      this.advanceHighWatermark(replica);
    }
  }
  /**
   * HW = the smallest durable offset over the ISR, readmissions not yet settled included.
   * With eligible leader replicas (KIP-966) it stands still while the ISR is below
   * min.insync.replicas: the replicas that left it then may be elected, and must hold
   * everything below it.
   */
  advanceHighWatermark(replica) {
    if (replica.role !== "leader") {
      return;
    }
    if (this.config.eligibleLeaderReplicas && replica.isr.length < this.config.minInsyncReplicas && !this.bugs.has("elr-hw-moves-below-min-isr")) {
      this.completePending(replica);
      return;
    }
    let hw = this.ackableEnd(replica.log);
    for (const node of [...replica.isr, ...replica.pendingIsr.keys()]) {
      if (node === this.ctx.id) {
        continue;
      }
      const follower = replica.followers.get(node);
      hw = Math.min(
        hw,
        follower === void 0 || follower.durable < 0 ? replica.highWatermark : follower.durable
      );
    }
    if (hw > replica.highWatermark) {
      replica.highWatermark = hw;
      this.ctx.observe({
        type: "kafka-hw",
        key: replica.key,
        highWatermark: hw,
        isr: replica.isr.length
      });
    }
    this.completePending(replica);
    if (replica.key === OFFSETS_KEY) {
      this.coordinator?.onHighWatermark(replica.highWatermark);
    }
  }
  /** How far this broker's log may be counted on: durable, or (fsyncBeforeAck off) written. */
  ackableEnd(log) {
    return this.config.fsyncBeforeAck ? log.durableEndOffset : log.logEndOffset;
  }
  onDurable(replica) {
    if (replica.role === "leader") {
      this.advanceHighWatermark(replica);
    }
  }
  completePending(replica) {
    if (replica.pending.length === 0) {
      return;
    }
    const still = [];
    for (const pending of replica.pending) {
      const done = pending.acks === "1" ? pending.lastOffset < this.ackableEnd(replica.log) : pending.lastOffset < replica.highWatermark;
      if (!done) {
        still.push(pending);
      } else if (pending.acks === "all" && replica.isr.length < this.config.minInsyncReplicas) {
        this.reply(pending.client, {
          type: "produce-error",
          id: pending.id,
          error: "not-enough-replicas-after-append",
          definite: false
        });
      } else {
        this.reply(pending.client, { type: "produce-ok", id: pending.id, offset: pending.offset });
      }
    }
    replica.pending = still;
  }
  expirePending(replica) {
    const now = this.ctx.monotonic();
    const expired = replica.pending.filter((pending) => now >= pending.deadlineUs);
    if (expired.length === 0) {
      return;
    }
    replica.pending = replica.pending.filter((pending) => now < pending.deadlineUs);
    for (const pending of expired) {
      this.reply(pending.client, {
        type: "produce-error",
        id: pending.id,
        error: "timeout",
        definite: false
      });
    }
  }
  /** Leadership moved: whatever was waiting may or may not survive it. */
  failPending(replica) {
    for (const pending of replica.pending) {
      this.reply(pending.client, {
        type: "produce-error",
        id: pending.id,
        error: "not-leader",
        definite: false
      });
    }
    replica.pending = [];
  }
  // ---- clients -----------------------------------------------------------------------------
  onClientRequest(client, request) {
    if (request.type === "metadata") {
      this.reply(client, {
        type: "metadata-ok",
        id: request.id,
        leaders: Object.fromEntries(this.leaders)
      });
      return;
    }
    const replica = this.replicas.get(request.key);
    if (request.type === "consume") {
      this.onConsume(client, replica, request);
      return;
    }
    if (replica === void 0 || replica.role !== "leader") {
      this.reply(client, {
        type: "produce-error",
        id: request.id,
        error: "not-leader",
        definite: true
      });
      return;
    }
    const count2 = request.values.length;
    assert(count2 >= 1 && count2 <= PRODUCE_RECORDS_MAX, "a produce request holds 1 to 16 records");
    const producer = replica.producers.get(request.producerId);
    const expected = producer === void 0 ? 0 : producer.lastSequence + 1;
    if (producer !== void 0 && request.sequence < expected) {
      const offset = offsetOfRetry(producer, request.sequence, request.sequence + count2 - 1);
      if (offset !== void 0) {
        this.ctx.observe({ type: "kafka-duplicate-suppressed", key: request.key });
        this.addPending(replica, client, request, offset);
      }
      return;
    }
    if (request.acks === "all" && replica.isr.length < this.config.minInsyncReplicas) {
      this.reply(client, {
        type: "produce-error",
        id: request.id,
        error: "not-enough-replicas",
        definite: true
      });
      return;
    }
    if (request.sequence !== expected && !(producer === void 0 && this.bugs.has("no-producer-dedup-after-failover"))) {
      this.reply(client, {
        type: "produce-error",
        id: request.id,
        error: "out-of-order-sequence",
        definite: true
      });
      return;
    }
    if (replica.pending.length >= PENDING_PRODUCE_MAX) {
      return;
    }
    const { baseOffset } = replica.log.append({
      leaderEpoch: replica.leaderEpoch,
      producerId: request.producerId,
      producerEpoch: 0,
      baseSequence: request.sequence,
      records: request.values.map(encodeValue)
    });
    replica.noteProducer(request.producerId, request.sequence, count2, baseOffset);
    this.addPending(replica, client, request, baseOffset);
    this.advanceHighWatermark(replica);
  }
  addPending(replica, client, request, offset) {
    replica.pending.push({
      offset,
      lastOffset: offset + request.values.length - 1,
      client,
      id: request.id,
      acks: request.acks,
      deadlineUs: this.ctx.monotonic() + this.config.requestTimeoutUs
    });
    this.completePending(replica);
  }
  onConsume(client, replica, request) {
    if (replica === void 0 || replica.role !== "leader") {
      this.reply(client, {
        type: "consume-error",
        id: request.id,
        key: request.key,
        error: "not-leader"
      });
      return;
    }
    const log = replica.log;
    const visibleEnd = this.bugs.has("fetch-beyond-hw") ? log.logEndOffset : replica.highWatermark;
    if (request.offset < log.logStartOffset || request.offset > log.logEndOffset) {
      this.reply(client, {
        type: "consume-error",
        id: request.id,
        key: request.key,
        error: "offset-out-of-range",
        logStartOffset: log.logStartOffset,
        highWatermark: replica.highWatermark
      });
      return;
    }
    const records = request.offset >= visibleEnd ? [] : log.read(request.offset, FETCH_BYTES_MAX) ?? [];
    const pairs = records.filter((record2) => record2.offset < visibleEnd).map((record2) => [record2.offset, decodeValue(record2.payload)]);
    this.reply(client, { type: "consume-ok", id: request.id, key: request.key, pairs });
  }
  reply(client, reply) {
    if (client < 0) {
      return;
    }
    const size = reply.type === "consume-ok" ? 32 + 16 * reply.pairs.length : reply.type === "offset-fetch-ok" || reply.type === "sync-group-ok" ? 96 : 48;
    this.ctx.send(client, reply, size);
  }
  inspect() {
    this.view ??= {
      role: "broker",
      partitions: new Map(
        [...this.replicas.values()].map((replica) => [
          replica.key,
          liveReplicaView(replica)
        ])
      )
    };
    return this.view;
  }
};
function liveReplicaView(replica) {
  return {
    key: replica.key,
    get role() {
      return replica.role === "leader" ? "leader" : "follower";
    },
    get leaderEpoch() {
      return replica.leaderEpoch;
    },
    get logStartOffset() {
      return replica.log.logStartOffset;
    },
    get logEndOffset() {
      return replica.log.logEndOffset;
    },
    get highWatermark() {
      return replica.highWatermark;
    },
    get isr() {
      return replica.role === "leader" ? replica.isr : [];
    },
    valueAt(offset) {
      const record2 = replica.log.peekRecord(offset);
      if (record2 === void 0 || record2.offset !== offset) {
        return void 0;
      }
      return replica.key === OFFSETS_KEY ? fnv1a(record2.payload) : decodeValue(record2.payload);
    }
  };
}
function parseHwCheckpoint(body) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return void 0;
  }
  const entries = Object.entries(body);
  if (entries.length > CHECKPOINT_PARTITIONS_MAX) {
    return void 0;
  }
  const highWatermarks = {};
  for (const [key2, value] of entries) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      return void 0;
    }
    highWatermarks[key2] = value;
  }
  return highWatermarks;
}
function fnv1a(bytes) {
  let hash = 2166136261;
  for (const byte of bytes) {
    hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  }
  return hash;
}
function toWireBatches(records) {
  const batches = [];
  let current;
  let currentStoredBase = -1;
  for (const record2 of records) {
    const payload = payloadText(record2.payload);
    if (current !== void 0 && currentStoredBase === record2.batchBaseOffset) {
      const at2 = current.payloads.length;
      assert(
        record2.offset === current.baseOffset + at2 && (record2.producerId < 0 || record2.sequence === current.baseSequence + at2),
        "a stored batch read back out of order"
      );
      current.payloads.push(payload);
      continue;
    }
    current = {
      baseOffset: record2.offset,
      leaderEpoch: record2.leaderEpoch,
      producerId: record2.producerId,
      baseSequence: record2.sequence,
      payloads: [payload]
    };
    currentStoredBase = record2.batchBaseOffset;
    batches.push(current);
  }
  assert(
    batches.every((batch) => batch.payloads.length > 0),
    "empty wire batch"
  );
  return batches;
}

// systems/settle-cutoff.ts
var SettleCutoff = class {
  constructor(ctx, intoSettleUs) {
    this.ctx = ctx;
    this.intoSettleUs = intoSettleUs;
  }
  ctx;
  intoSettleUs;
  settleSinceUs = -1;
  /** Whether the driver should stop: `intoSettleUs` of the settle phase have passed. */
  stopped() {
    if (this.ctx.phase() !== "settle") {
      return false;
    }
    const now = this.ctx.monotonic();
    if (this.settleSinceUs < 0) {
      this.settleSinceUs = now;
    }
    return now - this.settleSinceUs >= this.intoSettleUs;
  }
};

// systems/kafka/client.ts
var RETRY_US2 = 2e4;
var METADATA_EVERY_US = 2e5;
var PRODUCER_ID_STRIDE = 1e5;
function clientWorkload(workload) {
  const number = (name, fallback) => typeof workload[name] === "number" ? workload[name] : fallback;
  return {
    thinkUs: number("thinkUs", 2e4),
    attemptTimeoutUs: number("attemptTimeoutUs", 3e5),
    giveUpUs: number("giveUpUs", 3e6),
    produceIntoSettleUs: number("produceIntoSettleUs", 1e6),
    pollTimeoutUs: number("pollTimeoutUs", 2e5)
  };
}
var LeaderCache = class {
  constructor(ctx) {
    this.ctx = ctx;
  }
  ctx;
  leaders = /* @__PURE__ */ new Map();
  next = 0;
  refresh() {
    const brokers = this.ctx.members("brokers");
    const broker = brokers[this.next++ % brokers.length];
    this.ctx.send(broker, { type: "metadata", id: `${this.ctx.name}-md` }, 24);
  }
  learn(leaders) {
    for (const [key2, leader] of Object.entries(leaders)) {
      if (leader >= 0) {
        this.leaders.set(key2, leader);
      }
    }
  }
  leaderOf(key2) {
    const known = this.leaders.get(key2);
    if (known !== void 0) {
      return known;
    }
    const brokers = this.ctx.members("brokers");
    return brokers[this.ctx.random.int(brokers.length)];
  }
};
var KafkaProducer = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.cutoff = new SettleCutoff(ctx, this.workload.produceIntoSettleUs);
    this.leaders = new LeaderCache(ctx);
    this.index = ctx.members(ctx.group).indexOf(ctx.id);
    this.producerId = ctx.id + 1;
  }
  ctx;
  config;
  workload;
  leaders;
  index;
  producerId;
  resets = 0;
  sequences = /* @__PURE__ */ new Map();
  current = null;
  sent = 0;
  cutoff;
  onStart() {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, "metadata");
    this.scheduleNext();
  }
  scheduleNext() {
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), "next");
  }
  start() {
    if (this.cutoff.stopped()) {
      return;
    }
    const keys = this.config.keys;
    const key2 = keys[this.ctx.random.int(keys.length)];
    this.sent++;
    const value = (this.index + 1) * 1e6 + this.sent;
    this.current = {
      operationId: this.ctx.history.invoke({ f: "send", key: key2, value }),
      id: `${this.ctx.name}-${this.sent}`,
      key: key2,
      value,
      sequence: this.sequences.get(key2) ?? 0,
      startedUs: this.ctx.monotonic(),
      timer: -1
    };
    this.attempt();
  }
  attempt() {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    this.ctx.send(
      this.leaders.leaderOf(current.key),
      {
        type: "produce",
        id: current.id,
        key: current.key,
        values: [current.value],
        producerId: this.producerId,
        sequence: current.sequence,
        acks: this.config.acks
      },
      48
    );
    current.timer = this.ctx.setTimer(this.workload.attemptTimeoutUs, "attempt");
  }
  retrySoon(current) {
    this.ctx.cancelTimer(current.timer);
    if (this.ctx.monotonic() - current.startedUs >= this.workload.giveUpUs) {
      this.giveUp(current);
      return;
    }
    current.timer = this.ctx.setTimer(RETRY_US2, "attempt");
  }
  onMessage(_from, message) {
    const reply = message;
    if (reply.type === "metadata-ok") {
      this.leaders.learn(reply.leaders);
      return;
    }
    const current = this.current;
    if (current === null || !("id" in reply) || reply.id !== current.id) {
      return;
    }
    if (reply.type === "produce-ok") {
      this.ctx.cancelTimer(current.timer);
      this.sequences.set(current.key, current.sequence + 1);
      this.ctx.history.complete(current.operationId, "ok", { offset: reply.offset });
      this.current = null;
      this.scheduleNext();
      return;
    }
    if (reply.type !== "produce-error") {
      return;
    }
    if (reply.error === "not-leader") {
      this.leaders.leaders.delete(current.key);
      this.leaders.refresh();
      this.retrySoon(current);
      return;
    }
    if (reply.definite) {
      this.giveUp(current, reply.error);
      return;
    }
    this.retrySoon(current);
  }
  /** Leave the send open (it may yet take effect) and go on as a new producer. */
  giveUp(current, reason = "timeout") {
    this.ctx.cancelTimer(current.timer);
    this.ctx.observe({ type: "kafka-send-given-up", key: current.key, reason });
    this.current = null;
    this.newProducerId();
    this.scheduleNext();
  }
  newProducerId() {
    this.resets++;
    this.producerId = this.ctx.id + 1 + this.resets * PRODUCER_ID_STRIDE;
    this.sequences.clear();
  }
  onTimer(tag, timerId) {
    if (tag === "next") {
      if (this.current === null) {
        this.start();
      }
    } else if (tag === "metadata") {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, "metadata");
    } else if (tag === "attempt" && this.current !== null && timerId === this.current.timer) {
      const current = this.current;
      if (this.ctx.monotonic() - current.startedUs >= this.workload.giveUpUs) {
        this.giveUp(current);
        return;
      }
      this.leaders.leaders.delete(current.key);
      this.leaders.refresh();
      this.attempt();
    }
  }
  inspect() {
    return { role: "client" };
  }
};
function takeFetched(positions, msgs, key2, fetched) {
  const position = positions.get(key2) ?? 0;
  const pairs = fetched.filter(([offset]) => offset >= position);
  const last = pairs[pairs.length - 1];
  if (last !== void 0) {
    msgs[key2] = pairs;
    positions.set(key2, last[0] + 1);
  }
}
var KafkaConsumer = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.leaders = new LeaderCache(ctx);
  }
  ctx;
  config;
  workload;
  leaders;
  positions = /* @__PURE__ */ new Map();
  assignment = 0;
  polls = 0;
  current = null;
  onStart() {
    const keys = [...this.config.keys];
    const operationId = this.ctx.history.invoke({ f: "assign", keys });
    this.ctx.history.complete(operationId, "ok", null);
    for (const key2 of keys) {
      this.positions.set(key2, 0);
    }
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US, "metadata");
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), "next");
  }
  poll() {
    this.polls++;
    const id = `${this.ctx.name}-p${this.polls}`;
    this.current = {
      operationId: this.ctx.history.invoke({ f: "poll" }),
      id,
      waiting: new Set(this.config.keys),
      msgs: {},
      timer: this.ctx.setTimer(this.workload.pollTimeoutUs, "poll-timeout")
    };
    for (const key2 of this.config.keys) {
      this.ctx.send(
        this.leaders.leaderOf(key2),
        { type: "consume", id, key: key2, offset: this.positions.get(key2) ?? 0 },
        32
      );
    }
  }
  finish() {
    const current = this.current;
    if (current === null) {
      return;
    }
    this.ctx.cancelTimer(current.timer);
    const output = { msgs: current.msgs, assignment: this.assignment };
    this.ctx.history.complete(current.operationId, "ok", output);
    this.current = null;
    this.ctx.setTimer(1 + this.ctx.random.int(this.workload.thinkUs), "next");
  }
  onMessage(_from, message) {
    const reply = message;
    if (reply.type === "metadata-ok") {
      this.leaders.learn(reply.leaders);
      return;
    }
    const current = this.current;
    if (current === null || reply.type !== "consume-ok" && reply.type !== "consume-error" || reply.id !== current.id || !current.waiting.has(reply.key)) {
      return;
    }
    current.waiting.delete(reply.key);
    if (reply.type === "consume-ok") {
      takeFetched(this.positions, current.msgs, reply.key, reply.pairs);
    } else if (reply.error === "not-leader") {
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    } else {
      const position = this.positions.get(reply.key) ?? 0;
      const logStart = reply.logStartOffset ?? 0;
      if (position < logStart) {
        this.ctx.observe({
          type: "kafka-offset-reset",
          key: reply.key,
          reason: "log-start",
          from: position,
          to: logStart
        });
        this.positions.set(reply.key, logStart);
      } else {
        this.ctx.observe({ type: "kafka-offset-reset", key: reply.key });
        this.positions.set(reply.key, logStart);
        this.assignment++;
      }
    }
    if (current.waiting.size === 0) {
      this.finish();
    }
  }
  onTimer(tag) {
    if (tag === "next") {
      if (this.current === null) {
        this.poll();
      }
    } else if (tag === "poll-timeout") {
      this.finish();
    } else if (tag === "metadata") {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US, "metadata");
    }
  }
  inspect() {
    return { role: "client", positions: this.positions };
  }
};

// systems/kafka/metadata.ts
function eligibleOf(partition) {
  return partition.elr ?? [];
}
function withEligible(partition, elr) {
  const { elr: _before, ...rest } = partition;
  return elr === void 0 || elr.length === 0 ? rest : { ...rest, elr };
}
var encoder6 = new TextEncoder();
var decoder5 = new TextDecoder();
function encodeMetadataCommand(command) {
  return encoder6.encode(JSON.stringify(command));
}
function decodeMetadataCommand(data) {
  const command = JSON.parse(decoder5.decode(data));
  if (!["register", "fence", "unfence", "alter-partition"].includes(command.op)) {
    fail(`unknown metadata command ${String(command.op)}`);
  }
  return command;
}
var MetadataStateMachine = class {
  constructor(options) {
    this.options = options;
    this.reset();
  }
  options;
  brokers = /* @__PURE__ */ new Map();
  partitions = /* @__PURE__ */ new Map();
  /** The index of the last applied entry: brokers take newer metadata only. */
  version = 0;
  /** Called for each leadership change, for observations. */
  onLeaderChange;
  /** Called for every change to a partition (leader or ISR), for observations. */
  onPartitionChange;
  reset() {
    this.brokers.clear();
    this.partitions.clear();
    this.version = 0;
    for (const { key: key2, replicas } of this.options.partitions) {
      this.partitions.set(key2, {
        key: key2,
        replicas,
        leader: -1,
        leaderEpoch: 0,
        isr: replicas,
        partitionEpoch: 0
      });
    }
  }
  apply(entry) {
    this.version = entry.index;
    return this.applyCommand(decodeMetadataCommand(entry.data));
  }
  applyCommand(command) {
    switch (command.op) {
      case "register": {
        const known = this.brokers.get(command.broker);
        if (known !== void 0 && known.session === command.session) {
          return { ok: true };
        }
        this.leaveDamaged(command.broker, command.damaged ?? []);
        if (known !== void 0 && !known.fenced && !this.options.fenceOnRegister) {
          this.brokers.set(command.broker, { ...known, session: command.session });
          return { ok: true };
        }
        this.brokers.set(command.broker, {
          broker: command.broker,
          session: command.session,
          fenced: true,
          fencedAtVersion: this.version
        });
        if (known !== void 0) {
          this.fenceEffects(command.broker);
        }
        return { ok: true };
      }
      case "fence": {
        const known = this.brokers.get(command.broker);
        if (known === void 0 || known.session !== command.session || known.fenced) {
          return { ok: false, reason: "not an unfenced session" };
        }
        this.brokers.set(command.broker, { ...known, fenced: true, fencedAtVersion: this.version });
        this.fenceEffects(command.broker);
        return { ok: true };
      }
      case "unfence": {
        const known = this.brokers.get(command.broker);
        if (known === void 0 || known.session !== command.session) {
          return { ok: false, reason: "unknown session" };
        }
        if (known.fenced) {
          this.brokers.set(command.broker, { ...known, fenced: false });
          this.electOffline();
        }
        return { ok: true };
      }
      case "alter-partition":
        return this.alterPartition(command);
    }
  }
  isLive(broker) {
    const known = this.brokers.get(broker);
    return known !== void 0 && !known.fenced;
  }
  /** A fenced broker leaves every ISR (unless it is the last member) and every leadership. */
  fenceEffects(broker) {
    for (const partition of this.partitions.values()) {
      if (!partition.replicas.includes(broker)) {
        continue;
      }
      const isr = partition.isr.length > 1 ? partition.isr.filter((node) => node !== broker) : partition.isr;
      const shrunk = withEligible({ ...partition, isr }, this.eligibleAfter(partition, isr, []));
      if (partition.leader === broker || partition.leader === -1) {
        this.elect(shrunk, broker);
      } else if (isr.length !== partition.isr.length) {
        this.setPartition({ ...shrunk, partitionEpoch: partition.partitionEpoch + 1 });
      }
    }
  }
  /**
   * A broker that found a partition's durable records damaged leaves its ISR, even as the
   * last member, and its leadership: it will copy the partition afresh from a leader, and
   * until it has caught up its copy must never be elected. With no other ISR member the
   * partition has none, and stays offline (unless elections are unclean) rather than take a
   * leader that may lack acknowledged records.
   */
  leaveDamaged(broker, keys) {
    for (const key2 of keys) {
      const partition = this.partitions.get(key2);
      if (partition === void 0 || !partition.isr.includes(broker) && !eligibleOf(partition).includes(broker)) {
        continue;
      }
      const isr = partition.isr.filter((node) => node !== broker);
      const elr = this.eligibleAfter(partition, isr, [broker]);
      if (partition.leader === broker) {
        this.elect(withEligible({ ...partition, isr }, elr), broker);
      } else {
        this.setPartition(
          withEligible({ ...partition, isr, partitionEpoch: partition.partitionEpoch + 1 }, elr)
        );
      }
    }
  }
  electOffline() {
    for (const partition of this.partitions.values()) {
      if (partition.leader === -1) {
        this.elect(partition, -1);
      }
    }
  }
  /**
   * Picks a leader: the first live ISR member, else (KIP-966) the first live eligible leader
   * replica, else (unclean) any live replica, else none.
   */
  elect(partition, excluded) {
    const eligible = (node) => node !== excluded && this.isLive(node);
    let leader = partition.isr.find(eligible) ?? -1;
    let isr = partition.isr;
    let elr = partition.elr;
    let unclean = false;
    let fromEligible = false;
    if (leader === -1) {
      const fromElr = eligibleOf(partition).find(eligible);
      if (fromElr !== void 0) {
        leader = fromElr;
        fromEligible = true;
        isr = [fromElr];
        elr = this.eligibleAfter(partition, isr, []);
      }
    }
    if (leader === -1 && this.options.uncleanElection) {
      leader = partition.replicas.find(eligible) ?? -1;
      if (leader !== -1) {
        unclean = true;
        isr = [leader];
        elr = void 0;
      }
    }
    if (leader === -1 && partition.leader === -1 && isr === partition.isr && elr === partition.elr) {
      return;
    }
    const next = withEligible(
      {
        ...partition,
        leader,
        isr,
        leaderEpoch: partition.leaderEpoch + 1,
        partitionEpoch: partition.partitionEpoch + 1
      },
      elr
    );
    this.setPartition(next);
    this.onLeaderChange?.(next, unclean, fromEligible);
  }
  /** Why an AlterPartition would be refused now (undefined: it would be applied). */
  refusal(command) {
    const partition = this.partitions.get(command.key);
    if (partition === void 0) {
      return `no partition ${command.key}`;
    }
    if (partition.leader !== command.leader || partition.leaderEpoch !== command.leaderEpoch || partition.partitionEpoch !== command.partitionEpoch) {
      return "stale";
    }
    const same = command.isr.length === partition.isr.length && command.isr.every((node) => partition.isr.includes(node));
    const readmitsFenced = command.isr.some(
      (node) => !partition.isr.includes(node) && !this.isLive(node)
    );
    return same || readmitsFenced ? "no change" : void 0;
  }
  alterPartition(command) {
    const partition = this.partitions.get(command.key);
    if (partition === void 0) {
      return { ok: false, reason: `no partition ${command.key}` };
    }
    if (partition.leader !== command.leader || partition.leaderEpoch !== command.leaderEpoch || partition.partitionEpoch !== command.partitionEpoch) {
      return {
        ok: false,
        reason: `stale: partition ${command.key} is at leader ${partition.leader} epoch ${partition.leaderEpoch}, partition epoch ${partition.partitionEpoch}`,
        partition
      };
    }
    const isr = [...new Set(command.isr)].filter((node) => partition.replicas.includes(node));
    if (!isr.includes(command.leader)) {
      return { ok: false, reason: "an ISR must hold its leader", partition };
    }
    const admitted = isr.filter((node) => partition.isr.includes(node) || this.isLive(node));
    const nextIsr = partition.replicas.filter((node) => admitted.includes(node));
    if (nextIsr.length === partition.isr.length && nextIsr.every((node) => partition.isr.includes(node))) {
      return { ok: false, reason: "no change (a fenced broker is not readmitted)", partition };
    }
    const next = withEligible(
      { ...partition, isr: nextIsr, partitionEpoch: partition.partitionEpoch + 1 },
      this.eligibleAfter(partition, nextIsr, [])
    );
    this.setPartition(next);
    return { ok: true, partition: next };
  }
  /**
   * The eligible leader replicas once a partition's ISR becomes `isr` (KIP-966): none while the
   * ISR holds min.insync.replicas (the HW moves on without the others); below it, the ones
   * eligible before and the members leaving now, all of which hold every record below the HW
   * (it stood still since they left), but the new ISR's and those whose copy is `damaged`.
   */
  eligibleAfter(partition, isr, damaged) {
    const before2 = eligibleOf(partition);
    if (this.options.eligibleLeaderReplicas !== true) {
      return partition.elr;
    }
    if (isr.length >= (this.options.minInsyncReplicas ?? 1)) {
      return void 0;
    }
    const leaving = partition.isr.filter((node) => !isr.includes(node));
    const next = partition.replicas.filter(
      (node) => (before2.includes(node) || leaving.includes(node)) && !isr.includes(node) && !damaged.includes(node)
    );
    const same = next.length === before2.length && next.every((node) => before2.includes(node));
    return same ? partition.elr : next.length === 0 ? void 0 : next;
  }
  setPartition(next) {
    this.partitions.set(next.key, next);
    this.onPartitionChange?.(next);
  }
  snapshot() {
    const body = {
      brokers: [...this.brokers.values()],
      partitions: [...this.partitions.values()],
      version: this.version
    };
    return encoder6.encode(JSON.stringify(body));
  }
  restore(data) {
    const body = JSON.parse(decoder5.decode(data));
    this.reset();
    for (const broker of body.brokers) {
      this.brokers.set(broker.broker, broker);
    }
    for (const partition of body.partitions) {
      this.partitions.set(partition.key, partition);
    }
    this.version = body.version;
  }
};

// systems/kafka/controller.ts
var SESSION_CHECK_US = 5e4;
var PROPOSAL_TIMEOUT_US = 1e6;
var PROPOSALS_MAX = 256;
var ControllerNode = class {
  constructor(ctx, raftOptions = {}) {
    this.ctx = ctx;
    this.config = kafkaConfig(ctx.workload);
    this.metadata = new MetadataStateMachine({
      partitions: allPartitionsLayout(this.config, ctx.members("brokers")),
      uncleanElection: this.config.uncleanElection,
      // The protocol without leader epochs is the ZooKeeper-era one, restarts included.
      fenceOnRegister: this.config.leaderEpochs,
      eligibleLeaderReplicas: this.config.eligibleLeaderReplicas,
      minInsyncReplicas: this.config.minInsyncReplicas
    });
    this.metadata.onLeaderChange = (partition, unclean, fromEligible) => ctx.observe({
      type: "kafka-leader-elected",
      key: partition.key,
      leader: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      unclean,
      // Only when it happened, so that runs without eligible leader replicas see no change.
      ...fromEligible ? { eligibleLeaderReplica: true } : {}
    });
    this.metadata.onPartitionChange = (partition) => ctx.observe({
      type: "kafka-partition-state",
      key: partition.key,
      leader: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      partitionEpoch: partition.partitionEpoch,
      isr: partition.isr
    });
    this.raft = new RaftGroup(ctx, {
      id: "metadata",
      peers: ctx.members(ctx.group),
      filePrefix: "metadata/",
      stateMachine: this.metadata,
      // The plan's Raft knobs (sync marks, where the swarm draws media faults) apply here too.
      options: { ...raftOptions, ...planRaftOptions(ctx.workload) },
      onReply: (client, reply) => this.onRaftReply(client, reply)
    });
  }
  ctx;
  raft;
  metadata;
  config;
  lastHeartbeatUs = /* @__PURE__ */ new Map();
  leaderSinceUs = -1;
  proposals = /* @__PURE__ */ new Map();
  proposing = /* @__PURE__ */ new Set();
  nextProposal = 1;
  onStart() {
    this.raft.start();
    this.ctx.setTimer(SESSION_CHECK_US, "sessions");
  }
  onSynced(syncId, ok) {
    this.raft.onSynced(syncId, ok);
  }
  onTimer(tag) {
    if (this.raft.onTimer(tag)) {
      return;
    }
    if (tag === "sessions") {
      this.checkSessions();
      this.ctx.setTimer(SESSION_CHECK_US, "sessions");
    }
  }
  get leading() {
    return this.raft.running && this.raft.core.role === "leader";
  }
  onMessage(from2, message) {
    if (!this.raft.running) {
      if (message.type === "ctl-heartbeat" || message.type === "ctl-alter-partition") {
        this.reply(from2, { type: "ctl-not-leader", hint: null });
      }
      return;
    }
    if (message.type !== "ctl-heartbeat" && message.type !== "ctl-alter-partition") {
      this.raft.onMessage(from2, message);
      return;
    }
    if (!this.leading) {
      this.reply(from2, { type: "ctl-not-leader", hint: this.raft.core.leader });
      return;
    }
    const request = message;
    if (request.type === "ctl-heartbeat") {
      this.onHeartbeat(from2, request);
      return;
    }
    const command = {
      op: "alter-partition",
      key: request.key,
      leader: from2,
      leaderEpoch: request.leaderEpoch,
      partitionEpoch: request.partitionEpoch,
      isr: request.isr
    };
    if (this.metadata.refusal(command) !== void 0) {
      this.reply(from2, {
        type: "ctl-alter-result",
        id: request.id,
        ok: false,
        partition: this.metadata.partitions.get(request.key) ?? null
      });
      return;
    }
    this.propose(command, `alter:${request.key}:${from2}:${request.id}`, {
      broker: from2,
      id: request.id
    });
  }
  onHeartbeat(broker, request) {
    this.lastHeartbeatUs.set(broker, this.ctx.monotonic());
    const known = this.metadata.brokers.get(broker);
    if (known === void 0 || known.session !== request.session) {
      this.propose(
        {
          op: "register",
          broker,
          session: request.session,
          // Only when there is damage: the entries of every other registration stay as they were.
          ...(request.damaged ?? []).length > 0 ? { damaged: request.damaged } : {}
        },
        `register:${broker}:${request.session}`
      );
    } else if (known.fenced && request.version >= known.fencedAtVersion) {
      this.propose(
        { op: "unfence", broker, session: request.session },
        `unfence:${broker}:${request.session}`
      );
    }
    const version = this.metadata.version;
    this.reply(broker, {
      type: "ctl-heartbeat-ok",
      version,
      partitions: request.version < version ? [...this.metadata.partitions.values()] : null,
      fenced: known?.session !== request.session || known.fenced,
      session: request.session
    });
  }
  checkSessions() {
    if (!this.leading) {
      this.leaderSinceUs = -1;
      return;
    }
    const now = this.ctx.monotonic();
    if (this.leaderSinceUs < 0) {
      this.leaderSinceUs = now;
    }
    for (const [key2, proposal] of this.proposals) {
      if (now - proposal.startedUs > PROPOSAL_TIMEOUT_US) {
        this.proposals.delete(key2);
        this.proposing.delete(proposal.key);
      }
    }
    for (const registration of this.metadata.brokers.values()) {
      if (registration.fenced) {
        continue;
      }
      const heard = Math.max(
        this.lastHeartbeatUs.get(registration.broker) ?? -1,
        this.leaderSinceUs
      );
      if (now - heard > this.config.sessionTimeoutUs) {
        this.ctx.log("fencing a broker whose session timed out", { broker: registration.broker });
        this.propose(
          { op: "fence", broker: registration.broker, session: registration.session },
          `fence:${registration.broker}:${registration.session}`
        );
      }
    }
  }
  propose(command, dedupKey, waiter) {
    if (this.proposing.has(dedupKey) || this.proposals.size >= PROPOSALS_MAX) {
      return;
    }
    const id = `ctl${this.ctx.id}-${this.nextProposal++}`;
    this.proposing.add(dedupKey);
    this.proposals.set(id, {
      key: dedupKey,
      startedUs: this.ctx.monotonic(),
      ...waiter === void 0 ? {} : { waiter }
    });
    this.raft.onMessage(this.ctx.id, {
      type: "propose",
      id,
      data: encodeMetadataCommand(command)
    });
  }
  /** The Raft group's answers to the proposals this controller made. */
  onRaftReply(_client, reply) {
    const proposal = this.proposals.get(reply.id);
    if (proposal === void 0) {
      return;
    }
    this.proposals.delete(reply.id);
    this.proposing.delete(proposal.key);
    const waiter = proposal.waiter;
    if (waiter === void 0) {
      return;
    }
    if (reply.type !== "propose-ok") {
      return;
    }
    const result = reply.result;
    this.reply(waiter.broker, {
      type: "ctl-alter-result",
      id: waiter.id,
      ok: result.ok,
      partition: result.partition ?? null
    });
  }
  reply(to, reply) {
    const size = reply.type === "ctl-heartbeat-ok" ? 64 + 48 * (reply.partitions?.length ?? 0) : 48;
    this.ctx.send(to, reply, size);
  }
  inspect() {
    return this.raft.inspect();
  }
};

// systems/kafka/group-consumer.ts
var RETRY_US3 = 5e4;
var METADATA_EVERY_US2 = 2e5;
var FIND_TIMEOUT_US = 2e5;
var COMMIT_TIMEOUT_US = 5e5;
function groupWorkload(workload) {
  const number = (name, fallback) => typeof workload[name] === "number" ? workload[name] : fallback;
  return {
    group: typeof workload["group"] === "string" ? workload["group"] : "g1",
    autoCommit: workload["autoCommit"] === "before-process" ? "before-process" : "after-process",
    offsetReset: workload["offsetReset"] === "latest" ? "latest" : "earliest",
    heartbeatUs: number("groupHeartbeatUs", 1e5),
    crashProbability: number("memberCrashProbability", 0),
    leaveProbability: number("memberLeaveProbability", 0),
    stallProbability: number("memberStallProbability", 0),
    stallUsMax: number("memberStallUsMax", 15e5),
    downUsMax: number("memberDownUsMax", 1e6),
    startSpreadUs: number("memberStartSpreadUs", 0)
  };
}
var KafkaGroupConsumer = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.config = kafkaConfig(ctx.workload);
    this.workload = clientWorkload(ctx.workload);
    this.knobs = groupWorkload(ctx.workload);
    this.leaders = new LeaderCache(ctx);
  }
  ctx;
  config;
  workload;
  knobs;
  leaders;
  /** Bumped by a crash or leave: timers and replies of an older incarnation are ignored. */
  incarnation = 0;
  phase = "down";
  coordinator = -1;
  memberId = null;
  generation = -1;
  assigned = [];
  /** The generation its positions belong to (-1: none yet). */
  ownedGeneration = -1;
  positions = /* @__PURE__ */ new Map();
  committed = /* @__PURE__ */ new Map();
  pending = null;
  poll = null;
  heartbeatId = null;
  lastHeartbeatOkUs = 0;
  needRejoin = false;
  stalled = false;
  commitSequence = 0;
  commitOffsets = {};
  requests = 0;
  findNext = 0;
  onStart() {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US2, "metadata");
    this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.startSpreadUs)), "start");
  }
  // ---- incarnations ----------------------------------------------------------------------
  later(delayUs, tag) {
    return this.ctx.setTimer(delayUs, `${tag}:${this.incarnation}`);
  }
  startIncarnation() {
    this.phase = "finding";
    this.memberId = null;
    this.generation = -1;
    this.ownedGeneration = -1;
    this.assigned = [];
    this.positions.clear();
    this.committed.clear();
    this.needRejoin = false;
    const operationId = this.ctx.history.invoke({ f: "subscribe", keys: [...this.config.keys] });
    this.ctx.history.complete(operationId, "ok", null);
    this.later(this.knobs.heartbeatUs, "heartbeat");
    this.find();
  }
  /** The process dies (crash) or leaves: everything in memory goes; it comes back later. */
  stop(leave2) {
    if (leave2 && this.memberId !== null && this.coordinator >= 0) {
      this.send(this.coordinator, {
        type: "leave-group",
        id: this.nextId("leave"),
        group: this.knobs.group,
        memberId: this.memberId
      });
    }
    this.ctx.observe({
      type: leave2 ? "kafka-member-left" : "kafka-member-crashed",
      consumer: this.ctx.name,
      generation: this.generation
    });
    this.incarnation++;
    this.phase = "down";
    this.pending = null;
    this.stalled = false;
    this.poll = null;
    this.heartbeatId = null;
    this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.downUsMax)), "start");
  }
  nextId(kind) {
    this.requests++;
    return `${this.ctx.name}.${this.incarnation}.${kind}${this.requests}`;
  }
  send(to, request) {
    this.ctx.send(to, request, 64);
  }
  request(kind, to, body, timeoutUs, operationId = -1) {
    if (this.pending !== null) {
      this.ctx.cancelTimer(this.pending.timer);
    }
    if (to < 0) {
      this.pending = null;
      this.find();
      return;
    }
    const id = this.nextId(kind);
    this.pending = { id, kind, timer: this.later(timeoutUs, `timeout-${kind}`), operationId };
    this.send(to, body(id));
  }
  // ---- joining -----------------------------------------------------------------------------
  find() {
    this.phase = "finding";
    const brokers = this.ctx.members("brokers");
    const broker = brokers[this.findNext++ % brokers.length];
    this.request("find", broker, (id) => ({ type: "find-coordinator", id }), FIND_TIMEOUT_US);
  }
  join() {
    if (this.coordinator < 0) {
      this.find();
      return;
    }
    this.phase = "joining";
    this.needRejoin = false;
    this.request(
      "join",
      this.coordinator,
      (id) => ({
        type: "join-group",
        id,
        group: this.knobs.group,
        instance: `${this.ctx.name}.${this.incarnation}`,
        memberId: this.memberId
      }),
      this.config.rebalanceTimeoutUs + this.config.requestTimeoutUs
    );
  }
  sync() {
    this.phase = "syncing";
    const memberId = this.memberId;
    this.request(
      "sync",
      this.coordinator,
      (id) => ({
        type: "sync-group",
        id,
        group: this.knobs.group,
        memberId,
        generation: this.generation
      }),
      this.config.requestTimeoutUs
    );
    this.lastHeartbeatOkUs = this.ctx.monotonic();
  }
  fetchCommitted() {
    this.phase = "fetching";
    const keys = [...this.assigned];
    const operationId = this.ctx.history.invoke({ f: "list_committed_offsets", keys });
    this.request(
      "fetch",
      this.coordinator,
      (id) => ({ type: "offset-fetch", id, group: this.knobs.group, keys }),
      this.config.requestTimeoutUs,
      operationId
    );
  }
  /** Sent while a member of a generation (a join in progress counts as liveness itself). */
  heartbeat() {
    this.later(this.knobs.heartbeatUs, "heartbeat");
    const member = this.phase === "syncing" || this.phase === "fetching" || this.phase === "stable";
    if (!member || this.stalled || this.memberId === null || this.coordinator < 0) {
      return;
    }
    if (this.ctx.monotonic() - this.lastHeartbeatOkUs > this.config.groupSessionTimeoutUs) {
      this.coordinator = -1;
      this.needRejoin = true;
      this.maybeRejoin();
    } else {
      const id = this.nextId("hb");
      this.heartbeatId = id;
      this.send(this.coordinator, {
        type: "group-heartbeat",
        id,
        group: this.knobs.group,
        memberId: this.memberId,
        generation: this.generation
      });
    }
  }
  /** Rejoins now unless a poll cycle is under way (it rejoins when that ends). */
  maybeRejoin() {
    if (!this.needRejoin || this.poll !== null || this.pending?.kind === "commit") {
      return;
    }
    if (this.phase === "stable" || this.phase === "fetching" || this.phase === "syncing") {
      this.join();
    }
  }
  // ---- messages ----------------------------------------------------------------------------
  onMessage(_from, message) {
    const reply = message;
    if (reply.type === "metadata-ok") {
      this.leaders.learn(reply.leaders);
      return;
    }
    if (reply.type === "consume-ok" || reply.type === "consume-error") {
      this.onConsumeReply(reply);
      return;
    }
    if (!("id" in reply)) {
      return;
    }
    if (reply.id === this.heartbeatId) {
      this.onHeartbeatReply(reply);
      return;
    }
    const pending = this.pending;
    if (pending === null || reply.id !== pending.id) {
      return;
    }
    this.ctx.cancelTimer(pending.timer);
    this.pending = null;
    this.onGroupReply(pending, reply);
  }
  onHeartbeatReply(reply) {
    this.heartbeatId = null;
    if (reply.type === "group-heartbeat-ok") {
      this.lastHeartbeatOkUs = this.ctx.monotonic();
      return;
    }
    if (reply.type !== "group-error") {
      return;
    }
    this.onMembershipError(reply.error);
  }
  /** An error that may say our membership or generation is over. */
  onMembershipError(error) {
    switch (error) {
      case "unknown-member":
        this.memberId = null;
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      case "illegal-generation":
      case "rebalance-in-progress":
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      case "not-coordinator":
        this.coordinator = -1;
        this.needRejoin = true;
        this.maybeRejoin();
        return true;
      default:
        return false;
    }
  }
  onGroupReply(pending, reply) {
    switch (reply.type) {
      case "find-coordinator-ok":
        if (reply.coordinator >= 0) {
          this.coordinator = reply.coordinator;
          this.join();
        } else {
          this.later(RETRY_US3, "find");
        }
        return;
      case "join-group-ok":
        this.memberId = reply.memberId;
        this.generation = reply.generation;
        this.sync();
        return;
      case "sync-group-ok":
        if (reply.generation !== this.generation) {
          this.join();
          return;
        }
        if (reply.generation === this.ownedGeneration && reply.keys.length === this.assigned.length && reply.keys.every((key2) => this.assigned.includes(key2))) {
          this.phase = "stable";
          this.scheduleFetch();
          return;
        }
        this.assigned = [...reply.keys];
        this.ctx.observe({
          type: "kafka-group-assignment",
          group: this.knobs.group,
          generation: this.generation,
          member: this.memberId,
          consumer: this.ctx.name,
          keys: this.assigned
        });
        this.fetchCommitted();
        return;
      case "offset-fetch-ok": {
        this.ctx.history.complete(pending.operationId, "ok", { offsets: reply.offsets });
        this.positions.clear();
        this.committed.clear();
        for (const key2 of this.assigned) {
          const offset = reply.offsets[key2] ?? 0;
          this.positions.set(key2, offset);
          this.committed.set(key2, offset);
        }
        this.phase = "stable";
        this.ownedGeneration = this.generation;
        this.scheduleFetch();
        return;
      }
      case "offset-commit-ok":
        this.ctx.history.complete(pending.operationId, "ok", null);
        for (const [key2, offset] of Object.entries(this.commitOffsets)) {
          this.committed.set(key2, offset);
        }
        this.afterCommit();
        return;
      case "group-error":
        this.onRequestError(pending, reply.error);
        return;
      default:
        return;
    }
  }
  onRequestError(pending, error) {
    if (pending.kind === "commit") {
      this.onMembershipError(error);
      this.afterCommit();
      return;
    }
    if (pending.kind === "fetch") {
      this.phase = "syncing";
    }
    if (!this.onMembershipError(error)) {
      this.later(RETRY_US3, `retry-${pending.kind}`);
      return;
    }
    if (pending.kind === "join" || pending.kind === "find") {
      this.later(RETRY_US3, "rejoin");
    }
  }
  onTimeout(kind) {
    this.pending = null;
    switch (kind) {
      case "find":
        this.find();
        return;
      case "commit":
        this.afterCommit();
        return;
      default:
        this.coordinator = -1;
        this.find();
        return;
    }
  }
  onTimer(tag) {
    if (tag === "metadata") {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US2, "metadata");
      return;
    }
    const colon = tag.lastIndexOf(":");
    if (Number(tag.slice(colon + 1)) !== this.incarnation) {
      return;
    }
    const name = tag.slice(0, colon);
    if (name === "start") {
      if (this.phase === "down") {
        this.startIncarnation();
      }
    } else if (name === "heartbeat") {
      this.heartbeat();
    } else if (name === "find") {
      this.find();
    } else if (name === "rejoin" || name === "retry-join") {
      if (this.pending === null && this.poll === null) {
        this.join();
      }
    } else if (name === "retry-sync") {
      this.sync();
    } else if (name === "retry-fetch") {
      this.fetchCommitted();
    } else if (name.startsWith("timeout-")) {
      const kind = name.slice("timeout-".length);
      if (this.pending?.kind === kind) {
        this.onTimeout(kind);
      }
    } else if (name === "fetch") {
      if (this.phase === "stable" && this.poll === null) {
        if (this.pending === null) {
          this.startPoll();
        } else {
          this.scheduleFetch();
        }
      }
    } else if (name === "poll-timeout") {
      this.fetched();
    } else if (name === "resume" && this.stalled) {
      this.stalled = false;
      this.commit();
    }
  }
  // ---- polling -----------------------------------------------------------------------------
  scheduleFetch() {
    this.later(1 + this.ctx.random.int(this.workload.thinkUs), "fetch");
  }
  startPoll() {
    if (this.needRejoin) {
      this.maybeRejoin();
      return;
    }
    if (this.assigned.length === 0) {
      this.scheduleFetch();
      return;
    }
    const id = this.nextId("poll");
    this.poll = {
      operationId: this.ctx.history.invoke({ f: "poll" }),
      id,
      waiting: new Set(this.assigned),
      msgs: {},
      timer: this.later(this.workload.pollTimeoutUs, "poll-timeout"),
      fetched: false
    };
    for (const key2 of this.assigned) {
      this.ctx.send(
        this.leaders.leaderOf(key2),
        { type: "consume", id, key: key2, offset: this.positions.get(key2) ?? 0 },
        32
      );
    }
  }
  onConsumeReply(reply) {
    const poll = this.poll;
    if (poll === null || poll.fetched || reply.id !== poll.id || !poll.waiting.has(reply.key)) {
      return;
    }
    poll.waiting.delete(reply.key);
    if (reply.type === "consume-ok") {
      takeFetched(this.positions, poll.msgs, reply.key, reply.pairs);
    } else if (reply.error === "offset-out-of-range" && (this.positions.get(reply.key) ?? 0) < (reply.logStartOffset ?? 0)) {
      const logStart = this.knobs.offsetReset === "latest" ? Math.max(reply.logStartOffset ?? 0, reply.highWatermark ?? 0) : reply.logStartOffset ?? 0;
      this.ctx.observe({
        type: "kafka-offset-reset",
        key: reply.key,
        reason: "log-start",
        from: this.positions.get(reply.key) ?? 0,
        to: logStart
      });
      this.positions.set(reply.key, logStart);
    } else {
      if (reply.error === "offset-out-of-range") {
        this.ctx.observe({ type: "kafka-offset-out-of-range", key: reply.key });
      }
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    }
    if (poll.waiting.size === 0) {
      this.fetched();
    }
  }
  /** Every partition answered (or the poll timed out). */
  fetched() {
    const poll = this.poll;
    if (poll === null || poll.fetched) {
      return;
    }
    this.ctx.cancelTimer(poll.timer);
    poll.fetched = true;
    if (this.knobs.autoCommit === "before-process") {
      this.commit();
      return;
    }
    this.process();
    if (this.churn()) {
      return;
    }
    if (this.ctx.phase() === "faults" && this.ctx.random.chance(this.knobs.stallProbability)) {
      this.stalled = true;
      this.ctx.observe({ type: "kafka-member-stalled", consumer: this.ctx.name });
      this.later(1 + this.ctx.random.int(Math.max(1, this.knobs.stallUsMax)), "resume");
      return;
    }
    this.commit();
  }
  /** Processing a poll is completing it in the history. */
  process() {
    const poll = this.poll;
    if (poll === null) {
      return;
    }
    const output = { msgs: poll.msgs, assignment: this.generation };
    this.ctx.history.complete(poll.operationId, "ok", output);
  }
  /** Maybe crash or leave (faults phase only); true if the process is gone. */
  churn() {
    if (this.ctx.phase() !== "faults") {
      return false;
    }
    if (this.ctx.random.chance(this.knobs.crashProbability)) {
      this.stop(false);
      return true;
    }
    if (this.ctx.random.chance(this.knobs.leaveProbability)) {
      this.stop(true);
      return true;
    }
    return false;
  }
  commit() {
    const offsets = {};
    for (const key2 of this.assigned) {
      const position = this.positions.get(key2) ?? 0;
      if (position !== this.committed.get(key2)) {
        offsets[key2] = position;
      }
    }
    if (Object.keys(offsets).length === 0 || this.memberId === null || this.coordinator < 0) {
      this.afterCommit();
      return;
    }
    const operationId = this.ctx.history.invoke({ f: "commit_offsets", offsets });
    const memberId = this.memberId;
    this.commitSequence++;
    const sequence = this.commitSequence;
    this.commitOffsets = offsets;
    this.request(
      "commit",
      this.coordinator,
      (id) => ({
        type: "offset-commit",
        id,
        group: this.knobs.group,
        memberId,
        generation: this.generation,
        sequence,
        offsets
      }),
      COMMIT_TIMEOUT_US,
      operationId
    );
  }
  /** The commit is answered (or given up on): finish the cycle. */
  afterCommit() {
    if (this.poll !== null && this.knobs.autoCommit === "before-process") {
      if (this.churn()) {
        return;
      }
      this.process();
    }
    this.poll = null;
    if (this.needRejoin) {
      this.maybeRejoin();
      return;
    }
    if (this.phase === "stable") {
      this.scheduleFetch();
    }
  }
  inspect() {
    return {
      role: "client",
      positions: this.positions,
      generation: this.generation,
      assigned: this.assigned
    };
  }
};

// systems/kafka/program.ts
var KAFKA_VARIANTS = {
  "hw-advanced-before-isr-ack": "a leader uses a shrunk ISR (and advances its high watermark with it) before the controller has accepted the change",
  "no-producer-dedup-after-failover": "a new leader starts without the idempotent producers' state, so a retried batch is appended twice",
  "fetch-beyond-hw": "a leader lets consumers read records above its high watermark",
  "stale-generation-commit-accepted": "the group coordinator accepts offset commits from members and generations it has moved on from",
  "damaged-tail-cut-as-torn": "brokers keep no recovery point, so a synced tail that a media fault damaged is cut at restart as if a crash had torn it, records it acknowledged with it (only the `kafka` swarm draws media faults)",
  "elr-hw-moves-below-min-isr": "with eligible leader replicas, a leader still advances its high watermark while the ISR is below min.insync.replicas, so a replica elected from them may lack records consumers have read (only with eligible leader replicas, which no swarm turns on for now: see scenarios/kafka.ts)"
};
function kafkaBugs(variant) {
  const name = variantFor(variant, "kafka");
  return name !== null && name in KAFKA_VARIANTS ? /* @__PURE__ */ new Set([name]) : /* @__PURE__ */ new Set();
}
function kafkaGroups(sizes, raft = {}) {
  return [
    {
      name: "controllers",
      size: sizes.controllers,
      prefix: "ctrl",
      program: (context) => new ControllerNode(context, raft)
    },
    {
      name: "brokers",
      size: sizes.brokers,
      prefix: "broker",
      program: (context) => new BrokerNode(context, kafkaBugs(context.variant))
    },
    {
      name: "producers",
      size: sizes.producers,
      prefix: "p",
      client: true,
      program: (context) => new KafkaProducer(context)
    },
    {
      name: "consumers",
      size: sizes.consumers,
      prefix: "c",
      client: true,
      program: (context) => new KafkaConsumer(context)
    },
    ...sizes.members === void 0 ? [] : [
      {
        name: "members",
        size: sizes.members,
        prefix: "m",
        client: true,
        program: (context) => new KafkaGroupConsumer(context)
      }
    ]
  ];
}

// scenarios/kafka.ts
var SECOND7 = 1e6;
var KAFKA_BASE = {
  system: "kafka",
  groups: kafkaGroups({ controllers: 3, brokers: 5, producers: 3, consumers: 2 }),
  durationUs: 10 * SECOND7,
  settleUs: 6 * SECOND7,
  shape: {
    durationUs: { min: 2 * SECOND7, max: 12 * SECOND7 },
    groupSizes: { brokers: [3, 4, 5], producers: [1, 2, 3], consumers: [1, 2] }
  },
  faults: {
    // The expected-loss configurations: no media faults (the swarm `kafka` below draws them).
    eligible: [...FAULT_KINDS_BUT_MEDIA],
    swarm: true
  },
  workload: {
    keys: 3,
    replicationFactor: 3,
    minInsyncReplicas: 2,
    acks: "all",
    uncleanElection: false,
    leaderEpochs: true,
    thinkUs: 2e4
  },
  invariants: () => [
    ...raftSafetyInvariants({ groups: ["metadata"] }),
    ...kafkaHistoryInvariants({ unseen: true })
  ],
  sometimes: {
    "a partition changed leader": (record2) => record2.observation.type === "kafka-leader-elected" && record2.observation["leaderEpoch"] > 1,
    "a follower truncated a diverged log": (record2) => record2.observation.type === "kafka-diverged",
    "a retried send was answered from the producer's state": (record2) => record2.observation.type === "kafka-duplicate-suppressed",
    "a restarted broker resumed from its checkpointed high watermark": (record2) => record2.observation.type === "kafka-hw-restored"
  }
};
var RETENTION_SEGMENT_BYTES = 200;
function withRetention(seed, plan) {
  const random = Random.fromSeed(seed).fork("plan").fork("retention");
  if (!random.chance(0.5)) {
    return plan;
  }
  const segments = random.between(3, 10);
  plan.workload = {
    ...plan.workload,
    segmentBytes: RETENTION_SEGMENT_BYTES,
    retentionBytes: segments * RETENTION_SEGMENT_BYTES,
    compactOffsets: true
  };
  return plan;
}
var RETENTION_SOMETIMES = {
  "a consumer moved past records retention deleted": (record2) => record2.observation.type === "kafka-offset-reset" && record2.observation["reason"] === "log-start",
  "a follower restarted at its leader's log start": (record2) => record2.observation.type === "kafka-log-start-advanced" && record2.observation["reason"] === "truncate-fully",
  "retention deleted a segment": (record2) => record2.observation.type === "kafka-log-start-advanced" && record2.observation["reason"] === "retention",
  "the offsets partition was compacted": (record2) => record2.observation.type === "kafka-offsets-compacting"
};
var GROUP_SOMETIMES = {
  "a consumer group rebalanced past its first generation": (record2) => record2.observation.type === "kafka-group-assignment" && record2.observation["generation"] > 1,
  "a committed offset became durable": (record2) => record2.observation.type === "kafka-offset-committed",
  "a commit from a stale member or generation was fenced": (record2) => record2.observation.type === "kafka-commit-fenced"
};
var MEDIA_FAULTS = {
  eligible: FAULT_KINDS.filter((kind) => kind !== "latent-sector"),
  swarm: true
};
var MEDIA_WORKLOAD = { recoveryPoints: true, syncMarks: true, eligibleLeaderReplicas: true };
var ELR_SOMETIMES = {
  "a leader was elected from the eligible replicas": (record2) => record2.observation.type === "kafka-leader-elected" && record2.observation["eligibleLeaderReplica"] === true
};
var MEDIA_SOMETIMES = {
  ...ELR_SOMETIMES,
  "a broker found a partition log with damaged durable records": (record2) => record2.observation.type === "kafka-corruption-detected",
  "a broker copied a damaged partition afresh from its leader": (record2) => record2.observation.type === "kafka-partition-recopied"
};
registerScenario({
  ...KAFKA_BASE,
  name: "kafka",
  groups: kafkaGroups({ controllers: 3, brokers: 5, producers: 3, consumers: 2, members: 2 }),
  shape: {
    ...KAFKA_BASE.shape,
    groupSizes: { ...KAFKA_BASE.shape.groupSizes, members: [1, 2, 3] }
  },
  faults: MEDIA_FAULTS,
  workload: { ...KAFKA_BASE.workload, consumerGroups: true, ...MEDIA_WORKLOAD },
  // The expected-loss configurations below break these on purpose; they are judged by the
  // client history alone.
  invariants: () => [
    ...KAFKA_BASE.invariants(),
    ...kafkaBrokerInvariants(),
    ...kafkaGroupInvariants()
  ],
  sometimes: {
    ...KAFKA_BASE.sometimes,
    ...GROUP_SOMETIMES,
    ...RETENTION_SOMETIMES,
    ...MEDIA_SOMETIMES
  },
  plan: withRetention,
  description: "3 controllers (Raft) and 3\u20135 brokers with 3 partitions and the offsets partition, RF 3, acks=all, min.insync.replicas=2, clean elections, idempotent producers, manual consumers on every partition and a consumer group of 1\u20133 members; every fault kind; on half the seeds, retention keeping 3\u201310 segments of 200 bytes. No Jepsen Kafka anomaly, nothing acknowledged left unpolled (but what retention deleted first), committed offsets never back, one owner per partition per generation.",
  variants: KAFKA_VARIANTS
});
var GROUP_BASE = {
  ...KAFKA_BASE,
  groups: kafkaGroups({ controllers: 3, brokers: 5, producers: 3, consumers: 0, members: 3 }),
  shape: {
    durationUs: KAFKA_BASE.shape.durationUs,
    groupSizes: { brokers: [3, 4, 5], producers: [1, 2, 3], members: [2, 3, 4] }
  },
  invariants: () => [
    ...KAFKA_BASE.invariants(),
    ...kafkaBrokerInvariants(),
    ...kafkaGroupInvariants()
  ],
  sometimes: { ...KAFKA_BASE.sometimes, ...GROUP_SOMETIMES }
};
registerScenario({
  ...GROUP_BASE,
  name: "kafka-group-churn",
  // Media faults too. When the offsets partition's last ISR member finds its copy damaged,
  // that partition stays offline (clean election) and the group, without a coordinator,
  // consumes nothing more: `unseen` stands down then (kafka-history.ts), as it does for a
  // data partition left offline.
  plan: withRetention,
  faults: MEDIA_FAULTS,
  description: "A consumer group of 2\u20134 members that join at different times, leave and crash (a crashed member just stops; the coordinator drops it after its session timeout) while every fault hits the cluster; the coordinator rebalances each time. Every acknowledged message is consumed by the group, committed offsets never go back, no partition has two owners in one generation.",
  workload: {
    ...KAFKA_BASE.workload,
    consumerGroups: true,
    memberCrashProbability: 0.02,
    memberLeaveProbability: 0.02,
    memberStallProbability: 0.02,
    memberDownUsMax: 1e6,
    memberStartSpreadUs: 2e6,
    ...MEDIA_WORKLOAD
  },
  sometimes: {
    ...GROUP_BASE.sometimes,
    ...MEDIA_SOMETIMES,
    "a consumer moved past records retention deleted": RETENTION_SOMETIMES["a consumer moved past records retention deleted"],
    "retention deleted a segment": RETENTION_SOMETIMES["retention deleted a segment"],
    "the offsets partition was compacted": RETENTION_SOMETIMES["the offsets partition was compacted"],
    "a member crashed": (record2) => record2.observation.type === "kafka-member-crashed",
    "a member left": (record2) => record2.observation.type === "kafka-member-left",
    "a member stalled while processing": (record2) => record2.observation.type === "kafka-member-stalled",
    "the coordinator expired a member": (record2) => record2.observation.type === "kafka-member-expired"
  },
  variants: KAFKA_VARIANTS
});
registerScenario({
  ...GROUP_BASE,
  name: "kafka-autocommit-crash",
  description: "Expected loss: group members commit their positions as soon as a poll has fetched the records, before processing them (auto-commit racing the application), and sometimes crash in between; the next owner starts at the committed offset and the records are never processed.",
  workload: {
    ...KAFKA_BASE.workload,
    consumerGroups: true,
    autoCommit: "before-process",
    memberCrashProbability: 0.03,
    memberDownUsMax: 1e6
  },
  sometimes: {
    ...GROUP_BASE.sometimes,
    "a member crashed": (record2) => record2.observation.type === "kafka-member-crashed"
  },
  variants: {}
});
registerScenario({
  ...GROUP_BASE,
  name: "kafka-reset-latest",
  description: "Expected loss: retention keeps 3 segments of 200 bytes while group members crash and stay down for up to 2 s, so a new owner finds its committed offset deleted; with auto.offset.reset=latest it moves to the high watermark instead of the log start, skipping records retention has not deleted.",
  workload: {
    ...KAFKA_BASE.workload,
    consumerGroups: true,
    offsetReset: "latest",
    segmentBytes: RETENTION_SEGMENT_BYTES,
    retentionBytes: 3 * RETENTION_SEGMENT_BYTES,
    memberCrashProbability: 0.03,
    memberDownUsMax: 2e6
  },
  sometimes: {
    ...GROUP_BASE.sometimes,
    "a consumer moved past records retention deleted": RETENTION_SOMETIMES["a consumer moved past records retention deleted"]
  },
  variants: {}
});
registerScenario({
  ...KAFKA_BASE,
  name: "kafka-acks1-leader-crash",
  description: "Expected loss: producers use acks=1, so a leader acknowledges before its followers have a record; when it crashes or is cut off, a follower from the ISR leads without it.",
  workload: { ...KAFKA_BASE.workload, acks: "1" },
  variants: {}
});
registerScenario({
  ...KAFKA_BASE,
  name: "kafka-unclean-election",
  description: "Expected loss: min.insync.replicas=1 and unclean leader election on, so a leader acknowledges alone once the ISR has shrunk to it, and an out-of-sync replica may lead when it is gone.",
  workload: { ...KAFKA_BASE.workload, minInsyncReplicas: 1, uncleanElection: true },
  variants: {}
});
registerScenario({
  ...KAFKA_BASE,
  name: "kafka-min-isr-1",
  description: "Expected loss: min.insync.replicas=1 and Kafka's default of not fsyncing before acknowledging, so a leader whose ISR has shrunk to itself acknowledges records only in its page cache; when it loses power it comes back without them and, the last replica standing, leads again (KIP-966's case).",
  workload: { ...KAFKA_BASE.workload, minInsyncReplicas: 1, fsyncBeforeAck: false },
  variants: {}
});
registerScenario({
  ...KAFKA_BASE,
  name: "kafka-truncate-without-epochs",
  description: "Expected loss: the protocol before KIP-101 \u2014 no leader epochs, a follower truncates to its high watermark when it starts following, and (as with ZooKeeper sessions) a broker back from a restart keeps its ISR place and leaderships \u2014 so a fast double failover loses committed records or leaves the logs diverged at one offset.",
  workload: { ...KAFKA_BASE.workload, leaderEpochs: false },
  variants: {}
});

// systems/shardkv/config.ts
var NSHARDS = 10;
var NO_GROUP = 0;
var INITIAL_CONFIG = {
  num: 0,
  shards: Array.from({ length: NSHARDS }, () => NO_GROUP),
  groups: []
};
function keyToShard(key2) {
  let hash = 2166136261;
  for (let i = 0; i < key2.length; i++) {
    hash = Math.imul(hash ^ key2.charCodeAt(i), 16777619) >>> 0;
  }
  return hash % NSHARDS;
}
function serversOf(config, gid) {
  return config.groups.find(([id]) => id === gid)?.[1] ?? [];
}
function shardCounts(shards, gids) {
  const counts = new Map(gids.map((gid) => [gid, 0]));
  for (const gid of shards) {
    const count2 = counts.get(gid);
    if (count2 !== void 0) {
      counts.set(gid, count2 + 1);
    }
  }
  return counts;
}
function rebalance(shards, gids) {
  assert(shards.length === NSHARDS, `a configuration has ${NSHARDS} shards`);
  if (gids.length === 0) {
    return shards.map(() => NO_GROUP);
  }
  const counts = shardCounts(shards, gids);
  const order = [...gids].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b);
  const floor = Math.floor(NSHARDS / gids.length);
  const extra = NSHARDS % gids.length;
  const target = new Map(
    order.map((gid, rank) => [gid, floor + (rank < extra ? 1 : 0)])
  );
  const result = [...shards];
  const kept = new Map(gids.map((gid) => [gid, 0]));
  const free = [];
  for (let shard = 0; shard < NSHARDS; shard++) {
    const gid = result[shard];
    const goal = target.get(gid);
    if (goal !== void 0 && kept.get(gid) < goal) {
      kept.set(gid, kept.get(gid) + 1);
    } else {
      free.push(shard);
    }
  }
  for (const gid of order) {
    while (kept.get(gid) < target.get(gid)) {
      const shard = free.shift();
      assert(shard !== void 0, "rebalance ran out of free shards");
      result[shard] = gid;
      kept.set(gid, kept.get(gid) + 1);
    }
  }
  assert(free.length === 0, "rebalance left a shard unassigned");
  return result;
}
function minimalMoves(shards, gids) {
  if (gids.length === 0) {
    return shards.filter((gid) => gid !== NO_GROUP).length;
  }
  const owned = [...shardCounts(shards, gids).values()].sort((a, b) => b - a);
  const floor = Math.floor(NSHARDS / gids.length);
  const extra = NSHARDS % gids.length;
  let kept = 0;
  for (const [rank, count2] of owned.entries()) {
    kept += Math.min(count2, floor + (rank < extra ? 1 : 0));
  }
  return NSHARDS - kept;
}
function movedShards(before2, after) {
  let moved = 0;
  for (let shard = 0; shard < NSHARDS; shard++) {
    if (before2[shard] !== after[shard]) {
      moved++;
    }
  }
  return moved;
}
function unbalanced(shards, gids) {
  if (gids.length === 0) {
    const owned = shards.findIndex((gid) => gid !== NO_GROUP);
    return owned < 0 ? void 0 : `shard ${owned} is on group ${shards[owned]} with no groups joined`;
  }
  const stray = shards.findIndex((gid) => !gids.includes(gid));
  if (stray >= 0) {
    return `shard ${stray} is on group ${shards[stray]}, which is not in the configuration`;
  }
  const counts = [...shardCounts(shards, gids).values()];
  const most = Math.max(...counts);
  const least = Math.min(...counts);
  return most - least <= 1 ? void 0 : `shard counts per group range from ${least} to ${most}: more than one apart`;
}
function sameConfig(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// systems/shardkv/ctrler-state-machine.ts
var encoder7 = new TextEncoder();
var decoder6 = new TextDecoder();
var CONFIGS_MAX = 1e5;
function encodeCtrlerCommand(command) {
  return encoder7.encode(JSON.stringify(command));
}
function isGid(value) {
  return Number.isSafeInteger(value) && value > 0;
}
function decodeCtrlerCommand(data) {
  const command = JSON.parse(decoder6.decode(data));
  assert(
    Number.isSafeInteger(command.client) && Number.isSafeInteger(command.seq),
    "a controller command carries its client and seq"
  );
  switch (command.op) {
    case "join":
      assert(
        Array.isArray(command.groups) && command.groups.every(([gid, servers]) => isGid(gid) && Array.isArray(servers)),
        "a Join names groups as [gid, servers] pairs"
      );
      break;
    case "leave":
      assert(Array.isArray(command.gids) && command.gids.every(isGid), "a Leave names gids");
      break;
    case "move":
      assert(
        Number.isSafeInteger(command.shard) && command.shard >= 0 && command.shard < NSHARDS && isGid(command.gid),
        "a Move names a shard and a gid"
      );
      break;
    default:
      assert(false, `unknown controller command ${String(command.op)}`);
  }
  return command;
}
function nextConfig(latest, op, assign = rebalance) {
  const num = latest.num + 1;
  if (op.op === "move") {
    const shards = [...latest.shards];
    shards[op.shard] = op.gid;
    return { num, shards, groups: latest.groups };
  }
  const groups3 = new Map(latest.groups);
  if (op.op === "join") {
    for (const [gid, servers] of op.groups) {
      groups3.set(gid, [...servers]);
    }
  } else {
    for (const gid of op.gids) {
      groups3.delete(gid);
    }
  }
  const sorted = [...groups3.entries()].sort(([a], [b]) => a - b);
  const gids = sorted.map(([gid]) => gid);
  return { num, shards: assign(latest.shards, gids), groups: sorted };
}
function rebalanceFromScratch(shards, gids) {
  return shards.map((_, shard) => gids.length === 0 ? 0 : gids[shard % gids.length]);
}
var CtrlerStateMachine = class {
  constructor(assign = rebalance) {
    this.assign = assign;
  }
  assign;
  configs = [INITIAL_CONFIG];
  /** client → the highest sequence number applied for it. One outstanding op per client. */
  sessions = /* @__PURE__ */ new Map();
  /** Called with every configuration this replica makes, and the one it came from. */
  onConfig = () => {
  };
  onDuplicate = () => {
  };
  get latest() {
    return this.configs[this.configs.length - 1];
  }
  get count() {
    return this.configs.length;
  }
  /** MIT's Query(num): -1, or a number past the newest, means the newest. */
  query(num) {
    return num < 0 || num >= this.configs.length ? this.latest : this.configs[num];
  }
  apply(entry) {
    return this.applyCommand(decodeCtrlerCommand(entry.data));
  }
  applyCommand(command) {
    if (appliedBefore(this.sessions, command.client, command.seq)) {
      this.onDuplicate(command);
      return { duplicate: true, num: this.latest.num };
    }
    recordApplied(this.sessions, command.client, command.seq);
    assert(this.configs.length < CONFIGS_MAX, "the controller made too many configurations");
    const previous = this.latest;
    const made = nextConfig(previous, command, this.assign);
    this.configs.push(made);
    this.onConfig(made, previous, command);
    return { duplicate: false, num: made.num };
  }
  snapshot() {
    const body = { configs: this.configs, sessions: [...this.sessions.entries()] };
    return encoder7.encode(JSON.stringify(body));
  }
  restore(bytes) {
    const body = JSON.parse(decoder6.decode(bytes));
    assert(
      body.configs.length > 0 && body.configs.every((config, num) => config.num === num),
      "a controller snapshot holds configurations 0, 1, 2, \u2026 in order"
    );
    this.configs = body.configs;
    this.sessions.clear();
    for (const [client, seq] of body.sessions) {
      this.sessions.set(client, seq);
    }
  }
};

// systems/shardkv/ctrler-clerk.ts
var ATTEMPT_TAG2 = "ctrl-clerk:attempt";
var RETRY_TAG2 = "ctrl-clerk:retry";
var DEFAULT_OPTIONS = { attemptTimeoutUs: 1e5, refusedRetryUs: 5e3 };
var CtrlerClerk = class {
  constructor(ctx, servers, options = {}) {
    this.ctx = ctx;
    this.servers = servers;
    assert(servers.length > 0, "a controller clerk needs controller servers");
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.target = servers[ctx.id % servers.length];
  }
  ctx;
  servers;
  options;
  pending = null;
  timer = -1;
  target;
  requests = 0;
  seq = 0;
  get busy() {
    return this.pending !== null;
  }
  /** Join, Leave or Move; `done` runs once the controller applied it (or found it a duplicate). */
  command(op, done) {
    assert(this.pending === null, "a controller clerk does one request at a time");
    this.seq++;
    const data = encodeCtrlerCommand({ ...op, client: this.ctx.id, seq: this.seq });
    this.pending = { kind: "command", id: this.nextId(), data, done };
    this.attempt();
  }
  /** Query(num); -1 asks for the newest configuration. */
  query(num, done) {
    assert(this.pending === null, "a controller clerk does one request at a time");
    this.pending = { kind: "query", id: this.nextId(), num, done };
    this.attempt();
  }
  /** Drops the request under way (its callback never runs). */
  cancel() {
    this.pending = null;
    this.ctx.cancelTimer(this.timer);
  }
  nextId() {
    this.requests++;
    return `${this.ctx.name}-ctrl-${this.requests}`;
  }
  attempt() {
    const pending = this.pending;
    if (pending === null) {
      return;
    }
    this.ctx.cancelTimer(this.timer);
    if (pending.kind === "command") {
      const message = { type: "propose", id: pending.id, data: pending.data };
      this.ctx.send(this.target, message, 32 + pending.data.length);
    } else {
      const message = { type: "ctrl-query", id: pending.id, num: pending.num };
      this.ctx.send(this.target, message, 32);
    }
    this.timer = this.ctx.setTimer(this.options.attemptTimeoutUs, ATTEMPT_TAG2);
  }
  /** True when the message was a controller server's answer to this clerk. */
  onMessage(from2, message) {
    if (!this.servers.includes(from2)) {
      return false;
    }
    const pending = this.pending;
    const reply = message;
    if (pending === null || reply.id !== pending.id) {
      return true;
    }
    switch (reply.type) {
      case "propose-ok":
        if (pending.kind === "command") {
          this.finish(() => pending.done(reply.result));
        }
        return true;
      case "ctrl-config":
        if (pending.kind === "query") {
          this.finish(() => pending.done(reply.config));
        }
        return true;
      case "not-leader":
        this.target = reply.leaderHint ?? this.nextServer();
        this.retrySoon();
        return true;
      case "request-failed":
        this.target = this.nextServer();
        this.retrySoon();
        return true;
      default:
        return true;
    }
  }
  /** True when the timer was this clerk's. */
  onTimer(tag, timerId) {
    if (tag !== ATTEMPT_TAG2 && tag !== RETRY_TAG2) {
      return false;
    }
    if (timerId !== this.timer || this.pending === null) {
      return true;
    }
    if (tag === ATTEMPT_TAG2) {
      this.target = this.nextServer();
    }
    this.attempt();
    return true;
  }
  finish(callback) {
    this.ctx.cancelTimer(this.timer);
    this.pending = null;
    callback();
  }
  retrySoon() {
    this.ctx.cancelTimer(this.timer);
    this.timer = this.ctx.setTimer(this.options.refusedRetryUs, RETRY_TAG2);
  }
  nextServer() {
    const at2 = this.servers.indexOf(this.target);
    return this.servers[(at2 + 1) % this.servers.length];
  }
};

// systems/shardkv/admin.ts
function adminScriptKey(index) {
  return `admin.${index}`;
}
var CTRL_STREAM = "ctrl";
var CtrlerAdmin = class {
  constructor(ctx, options) {
    this.ctx = ctx;
    this.options = options;
    this.clerk = new CtrlerClerk(ctx, ctx.members(options.ctrlerGroup));
    const index = ctx.members(ctx.group).indexOf(ctx.id);
    const text = ctx.workload[adminScriptKey(index)];
    this.script = typeof text === "string" ? JSON.parse(text) : [];
  }
  ctx;
  options;
  clerk;
  script;
  next = 0;
  busy = false;
  onStart() {
    this.schedule();
  }
  schedule() {
    const step = this.script[this.next];
    if (step !== void 0) {
      this.ctx.setTimer(Math.max(1, step.atUs - this.ctx.now()), "admin:next");
    }
  }
  run(step) {
    this.busy = true;
    const operation = this.ctx.history.invoke(step, { stream: CTRL_STREAM });
    const finish = (output) => {
      this.ctx.history.complete(operation, "ok", output);
      this.busy = false;
      this.next++;
      this.schedule();
    };
    const op = step.op;
    if (op.f === "query") {
      this.clerk.query(op.num, finish);
      return;
    }
    this.clerk.command(this.toCommand(op), (result) => finish({ num: result.num }));
  }
  toCommand(op) {
    switch (op.f) {
      case "join":
        return {
          op: "join",
          groups: op.gids.map((gid) => [gid, this.options.serversOf(this.ctx, gid)])
        };
      case "leave":
        return { op: "leave", gids: op.gids };
      case "move":
        return { op: "move", shard: op.shard, gid: op.gid };
    }
  }
  onMessage(from2, message) {
    this.clerk.onMessage(from2, message);
  }
  onTimer(tag, timerId) {
    if (this.clerk.onTimer(tag, timerId)) {
      return;
    }
    const step = this.script[this.next];
    if (tag === "admin:next" && !this.busy && step !== void 0) {
      this.run(step);
    }
  }
  inspect() {
    const next = this.script[this.next];
    return {
      role: "client",
      step: this.next,
      steps: this.script.length,
      nextAtUs: next === void 0 ? null : next.atUs
    };
  }
};

// invariants/shardctrler.ts
function configMade(record2) {
  return record2.observation.type === "ctrl-config-made" ? record2.observation : void 0;
}
function ctrlerBalancedMinimal() {
  return {
    name: "shardctrler-balanced-minimal",
    onObservation(record2, view) {
      const made = configMade(record2);
      if (made === void 0 || made.op === "move") {
        return void 0;
      }
      const who2 = `${view.name(record2.node)} made configuration ${made.num} by a ${made.op}`;
      const why = unbalanced(made.after, made.gids);
      if (why !== void 0) {
        return `${who2} that is not balanced: ${why} (shards [${made.after.join(",")}])`;
      }
      const moved = movedShards(made.before, made.after);
      const least = minimalMoves(made.before, made.gids);
      return moved > least ? `${who2} that moved ${moved} shards ([${made.before.join(",")}] \u2192 [${made.after.join(",")}]) where ${least} would do: rebalancing must move the fewest shards` : void 0;
    }
  };
}
function ctrlerReplicasAgree() {
  const made = /* @__PURE__ */ new Map();
  return {
    name: "shardctrler-replicas-agree",
    onObservation(record2, view) {
      const config = configMade(record2);
      if (config === void 0) {
        return void 0;
      }
      const text = JSON.stringify([config.after, config.gids]);
      const first = made.get(config.num);
      if (first === void 0) {
        made.set(config.num, { text, node: record2.node });
        return void 0;
      }
      return first.text === text ? void 0 : `${view.name(first.node)} and ${view.name(record2.node)} made different configurations numbered ${config.num} (${first.text} vs ${text}): rebalancing must be deterministic`;
    }
  };
}
function adminOperations(history) {
  return history.filter((op) => op.stream === CTRL_STREAM).map((op) => ({ step: op.input, op }));
}
function ms2(us) {
  return `${(us / 1e3).toFixed(3)} ms`;
}
function ctrlerFreshQueries() {
  return {
    name: "shardctrler-fresh-queries",
    atEnd(view) {
      const operations = adminOperations(view.history);
      const acked = operations.filter(({ step, op }) => step.op.f !== "query" && op.returnUs !== void 0).map(({ op }) => ({ num: op.output.num, at: op.returnUs }));
      for (const { step, op } of operations) {
        if (step.op.f !== "query" || step.op.num >= 0 || op.returnUs === void 0) {
          continue;
        }
        const config = op.output;
        const newer = acked.find((ack) => ack.at < op.callUs && ack.num > config.num);
        if (newer !== void 0) {
          return `${view.name(op.client)}'s Query(-1) at ${ms2(op.callUs)} returned configuration ${config.num}, but configuration ${newer.num} had been acknowledged at ${ms2(newer.at)}: a stale Query`;
        }
      }
      return void 0;
    }
  };
}
function checkStep(check, config, labelled) {
  const from2 = (label) => labelled.get(label);
  if (check.groups !== void 0) {
    const gids = config.groups.map(([gid]) => gid);
    const want = [...check.groups].sort((a, b) => a - b);
    if (JSON.stringify(gids) !== JSON.stringify(want)) {
      return `it has groups [${gids.join(",")}], expected [${want.join(",")}]`;
    }
    const why = unbalanced(config.shards, gids);
    if (why !== void 0) {
      return `its assignment [${config.shards.join(",")}] is not valid: ${why}`;
    }
  }
  if (check.shards !== void 0 && config.shards.join(",") !== check.shards.join(",")) {
    return `its assignment is [${config.shards.join(",")}], expected [${check.shards.join(",")}]`;
  }
  if (check.sameAs !== void 0) {
    const earlier = from2(check.sameAs);
    if (earlier !== void 0 && !sameConfig(earlier, config)) {
      return `it differs from what the Query labelled ${check.sameAs} returned (${JSON.stringify(earlier)}): configurations must be immutable`;
    }
  }
  if (check.newerThan !== void 0) {
    const earlier = from2(check.newerThan);
    if (earlier !== void 0 && config.num <= earlier.num) {
      return `its number ${config.num} is not above ${earlier.num} of ${check.newerThan}: a Move must make a new configuration`;
    }
  }
  const since = check.joinedSince ?? check.leftSince;
  if (since !== void 0) {
    const before2 = from2(since.from);
    for (let shard = 0; before2 !== void 0 && shard < config.shards.length; shard++) {
      const was = before2.shards[shard];
      const now = config.shards[shard];
      const allowed = check.joinedSince !== void 0 ? since.gids.includes(now) : since.gids.includes(was);
      if (was !== now && !allowed) {
        return `shard ${shard} moved from group ${was} to ${now} since ${since.from}: a non-minimal transfer after a ${check.joinedSince !== void 0 ? "join" : "leave"}`;
      }
    }
  }
  if (check.movedAtMost !== void 0) {
    const before2 = from2(check.movedAtMost.from);
    const moved = before2 === void 0 ? 0 : movedShards(before2.shards, config.shards);
    if (moved > check.movedAtMost.count) {
      return `${moved} shards moved since ${check.movedAtMost.from}, more than ${check.movedAtMost.count}`;
    }
  }
  return void 0;
}
function ctrlerScriptChecks() {
  return {
    name: "shardctrler-checks",
    atEnd(view) {
      const labelled = /* @__PURE__ */ new Map();
      for (const { step, op } of adminOperations(view.history)) {
        if (step.op.f !== "query" || op.returnUs === void 0) {
          continue;
        }
        const config = op.output;
        if (step.check !== void 0) {
          const why = checkStep(step.check, config, labelled);
          if (why !== void 0) {
            return `${view.name(op.client)}'s Query(${step.op.num})${step.label === void 0 ? "" : ` (${step.label})`} at ${ms2(op.callUs)} returned configuration ${config.num}, but ${why}`;
          }
        }
        if (step.label !== void 0) {
          labelled.set(step.label, config);
        }
      }
      return void 0;
    }
  };
}
function ctrlerStepsComplete(byUs) {
  return {
    name: "shardctrler-steps-complete",
    atEnd(view) {
      for (const client of view.clients) {
        const state = view.inspect(client);
        const due = state?.nextAtUs;
        if (typeof due === "number" && due <= byUs) {
          return `${view.name(client)} finished ${state?.step} of its ${state?.steps} controller steps by the end of the run, the next due at ${ms2(due)}: the controller stopped making progress`;
        }
      }
      return void 0;
    }
  };
}
function ctrlerInvariants(stepsDueByUs) {
  return [
    ctrlerBalancedMinimal(),
    ctrlerReplicasAgree(),
    ctrlerFreshQueries(),
    ctrlerScriptChecks(),
    ctrlerStepsComplete(stepsDueByUs)
  ];
}

// systems/shardkv/group-state-machine.ts
var encoder8 = new TextEncoder();
var decoder7 = new TextDecoder();
function encodeGroupCommand(command) {
  return encoder8.encode(JSON.stringify(command));
}
function decodeGroupCommand(data) {
  const command = JSON.parse(decoder7.decode(data));
  assert(
    typeof command === "object" && command !== null && ["op", "config", "install", "delete", "confirmed"].includes(command.type),
    "a replica group command has a known type"
  );
  if (command.type === "op") {
    assert(isKvCommand(command), "a client write is {op: put|append, key, value, client, seq}");
  } else if (command.type !== "config") {
    assert(
      Number.isSafeInteger(command.num) && command.shard >= 0 && command.shard < NSHARDS,
      "a migration command names a configuration and a shard"
    );
  }
  return command;
}
var NO_EVENTS = {
  configApplied: () => {
  },
  served: () => {
  },
  installed: () => {
  },
  deleted: () => {
  },
  duplicate: () => {
  }
};
var NO_BUGS = {
  serveBeforeInstall: false,
  dedupNotMigrated: false,
  noGc: false,
  serveAfterHandoff: false,
  skipConfig: false
};
function emptyShard(status) {
  return { status, data: /* @__PURE__ */ new Map(), sessions: /* @__PURE__ */ new Map() };
}
var GroupStateMachine = class {
  constructor(gid, bugs = NO_BUGS) {
    this.gid = gid;
    this.bugs = bugs;
    assert(gid > 0, "a replica group has a gid above 0");
  }
  gid;
  bugs;
  config = INITIAL_CONFIG;
  /** The configuration before `config`: where pulled shards come from. */
  previous = INITIAL_CONFIG;
  shards = Array.from({ length: NSHARDS }, () => emptyShard("absent"));
  events = NO_EVENTS;
  shard(index) {
    return this.shards[index];
  }
  /** Whether this group answers for the shard now. */
  serves(index) {
    const status = this.shard(index).status;
    return status === "serving" || status === "confirming" || this.bugs.serveBeforeInstall && status === "pulling" || this.bugs.serveAfterHandoff && status === "handing-off";
  }
  /** Every shard is serving or absent: no migration under way, the next configuration may come. */
  get stable() {
    return this.shards.every((shard) => shard.status === "serving" || shard.status === "absent");
  }
  /** Shards in a status, ascending. */
  shardsIn(status) {
    const found = [];
    for (let index = 0; index < NSHARDS; index++) {
      if (this.shard(index).status === status) {
        found.push(index);
      }
    }
    return found;
  }
  get(key2) {
    return this.shard(keyToShard(key2)).data.get(key2) ?? "";
  }
  apply(entry) {
    return this.applyCommand(decodeGroupCommand(entry.data));
  }
  applyCommand(command) {
    switch (command.type) {
      case "op":
        return this.applyOp(command);
      case "config":
        return this.applyConfig(command.config);
      case "install":
        return this.applyInstall(command);
      case "delete":
        return this.applyDelete(command.num, command.shard);
      case "confirmed":
        return this.applyConfirmed(command.num, command.shard);
    }
  }
  applyOp(command) {
    const index = keyToShard(command.key);
    if (!this.serves(index)) {
      return { status: "wrong-group" };
    }
    const shard = this.shard(index);
    if (appliedBefore(shard.sessions, command.client, command.seq)) {
      this.events.duplicate(command.client, command.seq);
      return { status: "duplicate" };
    }
    applyWrite(shard.data, command);
    recordApplied(shard.sessions, command.client, command.seq);
    this.events.served(index, this.config.num);
    return { status: "ok" };
  }
  /** The next configuration, only from a stable state: one at a time, in order. */
  applyConfig(next) {
    const inOrder = this.bugs.skipConfig ? next.num > this.config.num : next.num === this.config.num + 1;
    if (!inOrder || !this.stable) {
      return false;
    }
    for (let index = 0; index < NSHARDS; index++) {
      const was = this.config.shards[index] === this.gid;
      const now = next.shards[index] === this.gid;
      const shard = this.shard(index);
      if (was && !now) {
        shard.status = "handing-off";
      } else if (!was && now) {
        const from2 = this.config.shards[index];
        shard.status = from2 === NO_GROUP ? "serving" : "pulling";
      }
    }
    this.events.configApplied(this.config.num, next.num);
    this.previous = this.config;
    this.config = next;
    return true;
  }
  applyInstall(command) {
    const shard = this.shard(command.shard);
    if (command.num !== this.config.num || shard.status !== "pulling") {
      return false;
    }
    shard.data.clear();
    for (const [key2, value] of command.data) {
      shard.data.set(key2, value);
    }
    shard.sessions.clear();
    if (!this.bugs.dedupNotMigrated) {
      for (const [client, seq] of command.sessions) {
        shard.sessions.set(client, seq);
      }
    }
    shard.status = "confirming";
    this.events.installed(command.shard, command.num, command.data.length);
    return true;
  }
  applyDelete(num, index) {
    const shard = this.shard(index);
    if (num !== this.config.num || shard.status !== "handing-off") {
      return false;
    }
    if (!this.bugs.noGc) {
      shard.data.clear();
      shard.sessions.clear();
    }
    shard.status = "absent";
    this.events.deleted(index, num);
    return true;
  }
  applyConfirmed(num, index) {
    const shard = this.shard(index);
    if (num !== this.config.num || shard.status !== "confirming") {
      return false;
    }
    shard.status = "serving";
    return true;
  }
  /**
   * What the previous owner answers a pull for shard `index` of configuration `num` with:
   * its frozen copy once it has applied `num` (no write applies to a handed-off shard), or
   * 'gone' when it has moved past (the puller's request is stale), or 'not-yet'.
   */
  handOff(num, index) {
    if (this.config.num < num) {
      return "not-yet";
    }
    const shard = this.shard(index);
    return this.config.num === num && shard.status === "handing-off" ? shard : "gone";
  }
  /** Whether the copy of shard `index` handed off in configuration `num` is deleted here. */
  deletedSince(num, index) {
    return this.config.num > num || this.config.num === num && this.shard(index).status !== "handing-off";
  }
  snapshot() {
    const body = {
      config: this.config,
      previous: this.previous,
      shards: this.shards.map((shard) => ({
        status: shard.status,
        data: [...shard.data.entries()],
        sessions: [...shard.sessions.entries()]
      }))
    };
    return encoder8.encode(JSON.stringify(body));
  }
  restore(bytes) {
    const body = JSON.parse(decoder7.decode(bytes));
    assert(body.shards.length === NSHARDS, `a replica group snapshot holds ${NSHARDS} shards`);
    this.config = body.config;
    this.previous = body.previous;
    this.shards = body.shards.map((saved2) => {
      const shard = emptyShard(saved2.status);
      for (const [key2, value] of saved2.data) {
        shard.data.set(key2, value);
      }
      for (const [client, seq] of saved2.sessions) {
        shard.sessions.set(client, seq);
      }
      return shard;
    });
  }
  /** Bytes of shard data held (keys and values), for the stored-state bound. */
  get dataBytes() {
    let bytes = 0;
    for (const shard of this.shards) {
      for (const [key2, value] of shard.data) {
        bytes += key2.length + value.length;
      }
    }
    return bytes;
  }
};

// systems/shardkv/client.ts
var REFUSED_RETRY_US2 = 2e3;
var NO_GROUP_RETRY_US = 5e4;
var ShardClient = class {
  constructor(ctx, ctrlerGroup, scriptKeyOf) {
    this.ctx = ctx;
    const index = ctx.members(ctx.group).indexOf(ctx.id);
    const text = scriptKeyOf === void 0 ? void 0 : ctx.workload[scriptKeyOf(index)];
    const script5 = scriptKeyOf === void 0 ? scriptFor(ctx.workload, index) : typeof text === "string" ? JSON.parse(text) : [];
    this.operations = new OperationLoop(
      ctx,
      { workload: kvWorkload(ctx.workload), script: script5, cycle: void 0 },
      {
        send: (operation) => this.send(operation),
        onSilence: (operation) => this.onSilence(operation),
        onGiveUp: () => this.clerk.cancel(),
        onBegin: () => {
          this.tried = 0;
          this.wrongGroup = false;
        },
        onComplete: (operation) => {
          if (this.wrongGroup) {
            this.ctx.observe({ type: "shardkv-recovered-from-wrong-group", key: operation.op.key });
          }
        }
      }
    );
    this.clerk = new CtrlerClerk(ctx, ctx.members(ctrlerGroup));
  }
  ctx;
  operations;
  clerk;
  config = INITIAL_CONFIG;
  /** gid → the server that last answered (its leader, most likely). */
  leaders = /* @__PURE__ */ new Map();
  /** Servers of the group tried since the configuration was last refreshed (this operation). */
  tried = 0;
  /** This operation was refused as wrong-group at least once. */
  wrongGroup = false;
  onStart() {
    this.operations.start();
  }
  /**
   * Sends the operation to the group the configuration names, or refreshes it first. Not
   * while a refresh is under way (its answer retries the operation).
   */
  send(operation) {
    if (this.clerk.busy) {
      return false;
    }
    const gid = this.config.shards[keyToShard(operation.op.key)];
    const servers = serversOf(this.config, gid);
    if (gid === NO_GROUP || servers.length === 0 || this.tried >= servers.length) {
      this.refreshConfig();
      return false;
    }
    const target = this.leaders.get(gid) ?? servers[0];
    const { op, id } = operation;
    if (op.f === "get") {
      const request = { type: "shard-get", id, key: op.key };
      this.ctx.send(target, request, 32 + op.key.length);
    } else {
      const data = encodeGroupCommand({
        type: "op",
        op: op.f,
        key: op.key,
        value: op.value,
        client: this.ctx.id,
        seq: operation.seq
      });
      this.ctx.send(target, { type: "propose", id, data }, 32 + data.length);
    }
    return true;
  }
  refreshConfig() {
    this.operations.cancelTimer();
    if (this.clerk.busy) {
      return;
    }
    this.clerk.query(-1, (config) => {
      const changed = config.num !== this.config.num;
      if (config.num >= this.config.num) {
        this.config = config;
      }
      if (this.operations.current !== null) {
        this.tried = 0;
        if (changed) {
          this.operations.attempt();
        } else {
          this.operations.retryAfter(NO_GROUP_RETRY_US);
        }
      }
    });
  }
  /** The next server of the key's group after a timeout or a refusal without a hint. */
  rotate(gid, from2) {
    const servers = serversOf(this.config, gid);
    const at2 = servers.indexOf(from2);
    this.leaders.set(gid, servers[(at2 + 1) % servers.length]);
    if (this.operations.current !== null) {
      this.tried++;
    }
  }
  onMessage(from2, message) {
    if (this.clerk.onMessage(from2, message)) {
      return;
    }
    const current = this.operations.current;
    const reply = message;
    if (current === null || reply.id !== current.id) {
      return;
    }
    const gid = this.config.shards[keyToShard(current.op.key)];
    switch (reply.type) {
      case "propose-ok": {
        const result = reply.result;
        if (result.status === "wrong-group") {
          this.onWrongGroup(current);
          return;
        }
        this.leaders.set(gid, from2);
        this.operations.finish(null);
        return;
      }
      case "shard-get-ok":
        this.leaders.set(gid, from2);
        this.operations.finish(reply.value);
        return;
      case "wrong-group":
        this.onWrongGroup(current);
        return;
      case "not-leader":
        if (reply.leaderHint !== null && serversOf(this.config, gid).includes(reply.leaderHint)) {
          this.leaders.set(gid, reply.leaderHint);
          this.tried++;
        } else {
          this.rotate(gid, from2);
        }
        this.retrySoon();
        return;
      case "request-failed":
        this.rotate(gid, from2);
        this.retrySoon();
        return;
      default:
        return;
    }
  }
  onWrongGroup(current) {
    if (!this.wrongGroup) {
      this.wrongGroup = true;
      this.ctx.observe({ type: "shardkv-wrong-group", key: current.op.key });
    }
    this.refreshConfig();
  }
  retrySoon() {
    this.operations.cancelTimer();
    this.operations.retryAfter(REFUSED_RETRY_US2);
  }
  /** An attempt went unanswered: the next server of the key's group. */
  onSilence(operation) {
    const gid = this.config.shards[keyToShard(operation.op.key)];
    const servers = serversOf(this.config, gid);
    if (servers.length > 0) {
      this.rotate(gid, this.leaders.get(gid) ?? servers[0]);
    }
  }
  onTimer(tag, timerId) {
    if (this.clerk.onTimer(tag, timerId)) {
      return;
    }
    this.operations.onTimer(tag, timerId);
  }
  inspect() {
    return this.operations.inspect();
  }
};

// systems/shardkv/types.ts
var CTRLER_VARIANTS = {
  "rebalance-from-scratch": "the controller deals the shards out round-robin on every Join and Leave: balanced, but shards move between groups that stay"
};
var GROUP_VARIANTS = {
  "serve-before-install": "a replica group answers for a shard as soon as the configuration gives it, before the shard\u2019s data has arrived",
  "dedup-not-migrated": "a shard moves without its duplicate table: a write retried across the move is applied twice",
  "no-gc": "a group never deletes the shards it handed off (it tells the new owner it did): stored state grows with every migration",
  "serve-after-handoff": "the previous owner keeps answering for a shard it handed off, until the new owner has it deleted",
  "skip-config": "a replica group jumps to the newest configuration instead of taking each one in turn, pulling shards from owners several configurations back",
  "config-outside-log": "a replica group leader applies a new configuration to its own state at once instead of through its Raft log: its followers, a new leader and its own restart never saw it"
};
var SHARDKV_VARIANTS = {
  ...CTRLER_VARIANTS,
  ...GROUP_VARIANTS
};
function shardkvVariant(variant) {
  const name = variantFor(variant, "shardkv");
  return name !== null && name in SHARDKV_VARIANTS ? name : null;
}

// systems/shardkv/ctrler-server.ts
var CtrlerServer = class {
  constructor(ctx, raftOptions = {}) {
    this.ctx = ctx;
    const variant = shardkvVariant(ctx.variant);
    this.state = new CtrlerStateMachine(
      variant === "rebalance-from-scratch" ? rebalanceFromScratch : void 0
    );
    this.queries = new AppliedReads(
      () => this.raft,
      (client, id, num) => this.answerQuery(client, id, num)
    );
    this.raft = serviceRaftGroup(ctx, this.state, raftOptions, this.queries);
    this.state.onConfig = (made, previous, op) => {
      const observation = {
        type: "ctrl-config-made",
        num: made.num,
        op: op.op,
        before: previous.shards,
        after: made.shards,
        gids: made.groups.map(([gid]) => gid)
      };
      ctx.observe(observation);
    };
    this.state.onDuplicate = (command) => ctx.observe({ type: "ctrl-duplicate-suppressed", client: command.client, seq: command.seq });
  }
  ctx;
  state;
  raft;
  queries;
  view;
  onStart() {
    this.raft.start();
  }
  onTimer(tag) {
    this.raft.onTimer(tag);
  }
  onSynced(syncId, ok) {
    this.raft.onSynced(syncId, ok);
  }
  onMessage(from2, message) {
    if (!this.raft.running) {
      return;
    }
    if (message.type === "ctrl-query") {
      const query = message;
      this.queries.start(from2, query.id, query.num);
      return;
    }
    this.raft.onMessage(from2, message);
  }
  answerQuery(client, id, num) {
    if (client < 0) {
      return;
    }
    const config = this.state.query(num);
    const reply = { type: "ctrl-config", id, config };
    this.ctx.send(client, reply, 64 + 8 * config.shards.length);
  }
  inspect() {
    const base = this.raft.inspect();
    if (base === void 0) {
      return void 0;
    }
    const state = this.state;
    const ctrler = {
      get latest() {
        return state.latest;
      },
      get count() {
        return state.count;
      },
      query: (num) => state.query(num)
    };
    this.view ??= Object.create(base, {
      ctrler: { value: ctrler, enumerable: true }
    });
    return this.view;
  }
};

// systems/shardkv/group-server.ts
var POLL_TAG = "shardkv:poll";
var POLL_US = 1e5;
var REPROPOSE_US = 5e5;
var PROPOSED_MAX = 256;
var GroupServer = class {
  constructor(ctx, options) {
    this.ctx = ctx;
    const variant = shardkvVariant(ctx.variant);
    const bugs = {
      serveBeforeInstall: variant === "serve-before-install",
      dedupNotMigrated: variant === "dedup-not-migrated",
      noGc: variant === "no-gc",
      serveAfterHandoff: variant === "serve-after-handoff",
      skipConfig: variant === "skip-config"
    };
    this.skipConfig = bugs.skipConfig;
    this.configOutsideLog = variant === "config-outside-log";
    const gid = options.gidOf(ctx);
    this.state = new GroupStateMachine(gid, bugs);
    this.clerk = new CtrlerClerk(ctx, ctx.members(options.ctrlerGroup));
    this.reads = new AppliedReads(
      () => this.raft,
      (client, id, key2) => this.answerGet(client, id, key2)
    );
    this.raft = serviceRaftGroup(ctx, this.state, options.raft, this.reads);
    this.state.events = {
      configApplied: (from2, to) => ctx.observe({ type: "shardkv-config-applied", gid, from: from2, to }),
      served: (shard, num) => this.observeServed(shard, num),
      installed: (shard, num, keys) => ctx.observe({ type: "shardkv-shard-installed", gid, shard, num, keys }),
      deleted: (shard, num) => ctx.observe({ type: "shardkv-shard-deleted", gid, shard, num }),
      duplicate: (client, seq) => ctx.observe({ type: "kv-duplicate-suppressed", client, seq })
    };
  }
  ctx;
  state;
  raft;
  clerk;
  reads;
  /** Migration steps this leader proposed: key → when (monotonic µs). */
  proposed = /* @__PURE__ */ new Map();
  nextProposal = 0;
  skipConfig;
  configOutsideLog;
  view;
  observeServed(shard, num) {
    const partial = this.state.shardsIn("pulling").length > 0;
    this.ctx.observe({ type: "shardkv-served", gid: this.state.gid, shard, num, partial });
  }
  onStart() {
    this.raft.start();
    this.ctx.setTimer(POLL_US, POLL_TAG);
  }
  onSynced(syncId, ok) {
    this.raft.onSynced(syncId, ok);
  }
  onTimer(tag, timerId) {
    if (this.raft.onTimer(tag) || this.clerk.onTimer(tag, timerId)) {
      return;
    }
    if (tag === POLL_TAG) {
      this.ctx.setTimer(POLL_US, POLL_TAG);
      if (this.raft.running && this.raft.core.role === "leader") {
        this.poll();
      }
    }
  }
  /** The leader's round: the next configuration, pulls, and deletions to ask for. */
  poll() {
    const state = this.state;
    if (state.stable && !this.clerk.busy) {
      const num = this.skipConfig ? -1 : state.config.num + 1;
      this.clerk.query(num, (config) => this.onConfig(config));
    }
    for (const shard of state.shardsIn("pulling")) {
      const pull = { type: "shard-pull", num: state.config.num, shard };
      this.sendToPreviousOwner(shard, pull);
    }
    for (const shard of state.shardsIn("confirming")) {
      const ask = { type: "shard-delete", num: state.config.num, shard };
      this.sendToPreviousOwner(shard, ask);
    }
  }
  sendToPreviousOwner(shard, message) {
    const previous = this.state.previous;
    for (const server2 of serversOf(previous, previous.shards[shard])) {
      this.ctx.send(server2, message, 32);
    }
  }
  onConfig(config) {
    const current = this.state.config.num;
    const wanted = this.skipConfig ? config.num > current : config.num === current + 1;
    if (!wanted || !this.state.stable) {
      return;
    }
    if (this.configOutsideLog) {
      if (this.raft.core.role === "leader") {
        this.state.applyCommand({ type: "config", config });
      }
      return;
    }
    this.propose({ type: "config", config }, `config:${config.num}`);
  }
  /** Proposes a step of its own through the log, not again while the last try may still land. */
  propose(command, key2) {
    if (!this.raft.running || this.raft.core.role !== "leader") {
      return;
    }
    const now = this.ctx.monotonic();
    const last = this.proposed.get(key2);
    if (last !== void 0 && now - last < REPROPOSE_US) {
      return;
    }
    if (this.proposed.size >= PROPOSED_MAX) {
      this.proposed.delete(this.proposed.keys().next().value);
    }
    this.proposed.delete(key2);
    this.proposed.set(key2, now);
    this.nextProposal++;
    const data = encodeGroupCommand(command);
    this.raft.onMessage(-1, {
      type: "propose",
      id: `${this.ctx.name}-own-${this.nextProposal}`,
      data
    });
  }
  onMessage(from2, message) {
    if (!this.raft.running) {
      return;
    }
    if (this.clerk.onMessage(from2, message)) {
      return;
    }
    switch (message.type) {
      case "shard-get": {
        const request = message;
        this.reads.start(from2, request.id, request.key);
        return;
      }
      case "shard-pull":
        this.onPull(from2, message);
        return;
      case "shard-data":
        this.onData(message);
        return;
      case "shard-delete":
        this.onDelete(from2, message);
        return;
      case "shard-deleted":
        this.onDeleted(message);
        return;
      default:
        this.raft.onMessage(from2, message);
    }
  }
  /** Any replica that applied configuration `num` holds the shard's final copy: answer. */
  onPull(from2, pull) {
    const shard = this.state.handOff(pull.num, pull.shard);
    if (typeof shard === "string") {
      return;
    }
    const reply = {
      type: "shard-data",
      num: pull.num,
      shard: pull.shard,
      data: [...shard.data.entries()],
      sessions: [...shard.sessions.entries()]
    };
    let bytes = 48;
    for (const [key2, value] of reply.data) {
      bytes += key2.length + value.length + 8;
    }
    this.ctx.send(from2, reply, bytes + 16 * reply.sessions.length);
  }
  onData(data) {
    const state = this.state;
    if (data.num === state.config.num && state.shard(data.shard).status === "pulling") {
      this.propose(
        {
          type: "install",
          num: data.num,
          shard: data.shard,
          data: data.data,
          sessions: data.sessions
        },
        `install:${data.num}:${data.shard}`
      );
    }
  }
  onDelete(from2, ask) {
    if (this.state.deletedSince(ask.num, ask.shard)) {
      const done = { type: "shard-deleted", num: ask.num, shard: ask.shard };
      this.ctx.send(from2, done, 32);
      return;
    }
    if (this.state.config.num === ask.num) {
      this.propose(
        { type: "delete", num: ask.num, shard: ask.shard },
        `delete:${ask.num}:${ask.shard}`
      );
    }
  }
  onDeleted(done) {
    const state = this.state;
    if (done.num === state.config.num && state.shard(done.shard).status === "confirming") {
      this.propose(
        { type: "confirmed", num: done.num, shard: done.shard },
        `confirmed:${done.num}:${done.shard}`
      );
    }
  }
  answerGet(client, id, key2) {
    if (client < 0) {
      return;
    }
    const shard = keyToShard(key2);
    if (!this.state.serves(shard)) {
      const reply2 = { type: "wrong-group", id, num: this.state.config.num };
      this.ctx.send(client, reply2, 32);
      return;
    }
    this.observeServed(shard, this.state.config.num);
    const value = this.state.get(key2);
    const reply = { type: "shard-get-ok", id, value };
    this.ctx.send(client, reply, 48 + value.length);
  }
  inspect() {
    const base = this.raft.inspect();
    if (base === void 0) {
      return void 0;
    }
    const state = this.state;
    const raft = this.raft;
    this.view ??= Object.create(base, {
      shardGroup: { value: state, enumerable: true },
      raftStateBytes: { get: () => raft.logBytes, enumerable: true },
      snapshotBytes: { get: () => raft.snapshotBytes, enumerable: true }
    });
    return this.view;
  }
};

// systems/shardkv/program.ts
var CTRLER_GROUP = "ctrl";
function ctrlerServer(raft = {}) {
  return (context) => new CtrlerServer(context, raft);
}
var NO_SERVERS = () => [];
function ctrlerAdmin(options = {}) {
  const full = {
    ctrlerGroup: options.ctrlerGroup ?? CTRLER_GROUP,
    serversOf: options.serversOf ?? NO_SERVERS
  };
  return (context) => new CtrlerAdmin(context, full);
}
function groupName(gid) {
  return `g${gid}`;
}
function gidOfGroup(name) {
  const gid = Number(name.slice(1));
  assert(
    name.startsWith("g") && Number.isSafeInteger(gid) && gid > 0,
    `${name} is no replica group`
  );
  return gid;
}
function groupServer(raft = {}) {
  return (context) => new GroupServer(context, {
    raft,
    ctrlerGroup: CTRLER_GROUP,
    gidOf: (ctx) => gidOfGroup(ctx.group)
  });
}
function shardClient() {
  return (context) => new ShardClient(context, CTRLER_GROUP);
}
function probeScriptKey(index) {
  return `probe.${index}`;
}
function shardProber() {
  return (context) => new ShardClient(context, CTRLER_GROUP, probeScriptKey);
}
function shardAdmin() {
  return ctrlerAdmin({ serversOf: (ctx, gid) => ctx.members(groupName(gid)) });
}

// scenarios/shardctrler-mit.ts
var MS10 = 1e3;
var SECOND8 = 1e6;
var CTRLERS = 3;
var GAP_US = 50 * MS10;
var NPARA = 10;
var Script = class {
  constructor(atUs) {
    this.atUs = atUs;
  }
  atUs;
  steps = [];
  /** Later steps not before `atUs`. */
  at(atUs) {
    this.atUs = Math.max(this.atUs, atUs);
    return this;
  }
  get timeUs() {
    return this.atUs;
  }
  add(op, label, check) {
    this.steps.push({
      atUs: this.atUs,
      op,
      ...label === void 0 ? {} : { label },
      ...check === void 0 ? {} : { check }
    });
    this.atUs += GAP_US;
    return this;
  }
  join(...gids) {
    return this.add({ f: "join", gids });
  }
  leave(...gids) {
    return this.add({ f: "leave", gids });
  }
  move(shard, gid) {
    return this.add({ f: "move", shard, gid });
  }
  query(num, label, check) {
    return this.add({ f: "query", num }, label, check);
  }
  /** MIT's check(t, groups, ck): Query(-1) has exactly these groups, valid and balanced. */
  check(groups3, label, extra = {}) {
    return this.query(-1, label, { groups: groups3, ...extra });
  }
};
function workloadOf(scripts) {
  const workload = {};
  for (const [index, script5] of scripts.entries()) {
    workload[adminScriptKey(index)] = JSON.stringify(script5.steps);
  }
  return workload;
}
var range2 = (count2, from2 = 0) => Array.from({ length: count2 }, (_, i) => from2 + i);
function definePort(port) {
  registerScenario({
    name: port.name,
    description: port.description,
    system: "shardkv",
    groups: [
      {
        name: CTRLER_GROUP,
        size: CTRLERS,
        prefix: "ctrl",
        program: ctrlerServer({ ...MIT_RAFT_OPTIONS, snapshotEveryEntries: 20 })
      },
      {
        name: "admins",
        size: port.scripts.length,
        prefix: "a",
        client: true,
        program: ctrlerAdmin()
      }
    ],
    durationUs: port.durationUs,
    settleUs: 2 * SECOND8,
    faults: { eligible: [], swarm: false },
    workload: workloadOf(port.scripts),
    variants: CTRLER_VARIANTS,
    invariants: (plan) => [...raftSafetyInvariants(), ...ctrlerInvariants(plan.durationUs)],
    sometimes: {
      "a configuration was made": (record2) => record2.observation.type === "ctrl-config-made"
    },
    checks: {
      "ctrl1 leads": (view) => serverState(view, 0)?.role === "leader" ? void 0 : "ctrl1 did not become leader when told to campaign"
    },
    plan: (_seed, base) => ({
      ...base,
      faults: (port.faults ?? []).map((fault) => ({ ...fault })),
      script: (port.script ?? []).map((step) => ({ ...step }))
    })
  });
}
function historical(main, last, labels) {
  const faults5 = [];
  for (const server2 of range2(CTRLERS)) {
    const downUs = main.timeUs + 200 * MS10;
    faults5.push({ atUs: downUs, kind: "crash", node: server2 });
    main.at(downUs + 600 * MS10);
    for (const num of range2(last + 1)) {
      main.query(num, void 0, { sameAs: labels(num) });
    }
    faults5.push({ atUs: main.timeUs + 100 * MS10, kind: "restart", node: server2 });
    main.at(main.timeUs + 300 * MS10);
  }
  return faults5;
}
function moves(main, a, b) {
  main.join(a).join(b);
  for (const shard of range2(NSHARDS)) {
    main.query(-1, `before-move-${shard}`);
    main.move(shard, shard < NSHARDS / 2 ? a : b);
    main.query(-1, void 0, { newerThan: `before-move-${shard}` });
  }
  main.query(-1, void 0, {
    shards: range2(NSHARDS).map((shard) => shard < NSHARDS / 2 ? a : b)
  });
  main.leave(a).leave(b);
}
function concurrent(main, startUs, multi) {
  const gids = range2(NPARA).map((i) => 100 + 10 * i);
  const helpers = gids.map((gid) => {
    const helper = new Script(startUs);
    return multi ? helper.join(gid, gid + 1e3).leave(gid + 1e3) : helper.join(gid + 1e3).join(gid).leave(gid + 1e3);
  });
  main.at(startUs + 3 * SECOND8).check(gids);
  return helpers;
}
function minimal(main, existing, multi) {
  const added = range2(5, NPARA + 1);
  main.query(-1, "before-joins");
  if (multi) {
    main.join(...added);
  } else {
    for (const gid of added) {
      main.join(gid);
    }
  }
  main.check([...existing, ...added], "after-joins", {
    joinedSince: { from: "before-joins", gids: added }
  });
  if (multi) {
    main.leave(...added);
  } else {
    for (const gid of added) {
      main.leave(gid);
    }
  }
  main.check(existing, void 0, { leftSince: { from: "after-joins", gids: added } });
}
{
  const main = new Script(300 * MS10);
  main.check([], "c0");
  main.join(1).check([1], "c1");
  main.join(2).check([1, 2], "c2");
  main.join(2).check([1, 2], "c3");
  main.leave(1).check([2], "c4");
  main.leave(2).check([], "c5");
  const faults5 = historical(main, 5, (num) => `c${num}`);
  moves(main, 3, 4);
  const helpers = concurrent(main, main.timeUs + 200 * MS10, false);
  minimal(
    main,
    range2(NPARA).map((i) => 100 + 10 * i),
    false
  );
  definePort({
    name: "shardctrler-basic",
    description: "MIT shardctrler TestBasic: leave/join, historical queries with each server down in turn, Move, concurrent leave/join by 10 clients, minimal transfers after joins and leaves.",
    durationUs: main.timeUs + SECOND8,
    scripts: [main, ...helpers],
    faults: faults5
  });
}
{
  const main = new Script(300 * MS10);
  main.check([], "c0");
  main.join(1, 2, 3).check([1, 2, 3], "c1");
  main.join(4, 5).check([1, 2, 3, 4, 5], "c2");
  main.leave(1, 3).check([2, 4, 5], "c3");
  main.leave(2, 4, 5).check([], "c4");
  const faults5 = historical(main, 4, (num) => `c${num}`);
  const helpers = concurrent(main, main.timeUs + 200 * MS10, true);
  minimal(
    main,
    range2(NPARA).map((i) => 100 + 10 * i),
    true
  );
  const campaignUs = main.timeUs + 300 * MS10;
  main.at(campaignUs + 600 * MS10).query(-1, "before-kill");
  const killUs = main.timeUs + 100 * MS10;
  main.at(killUs + 1500 * MS10).query(-1, void 0, { sameAs: "before-kill" });
  definePort({
    name: "shardctrler-multi",
    description: "MIT shardctrler TestMulti: multi-group Join/Leave, historical queries with each server down in turn, concurrent multi leave/join, minimal transfers after multijoins and multileaves, the same newest configuration after the leader is killed.",
    durationUs: main.timeUs + SECOND8,
    scripts: [main, ...helpers],
    faults: [...faults5, { atUs: killUs, kind: "crash", node: 0 }],
    script: [
      { atUs: campaignUs, kind: "inject", node: 0, message: { type: "campaign" } },
      { atUs: campaignUs + 500 * MS10, kind: "check", check: "ctrl1 leads" }
    ]
  });
}
{
  const main = new Script(300 * MS10);
  main.join(1).join(2).query(-1, "c1");
  main.join(3).query(-1, "c2", {
    joinedSince: { from: "c1", gids: [3] },
    movedAtMost: { from: "c1", count: Math.floor(NSHARDS / 3) + 1 }
  });
  main.leave(1).query(-1, void 0, {
    leftSince: { from: "c2", gids: [1] },
    movedAtMost: { from: "c2", count: Math.floor(NSHARDS / 3) + 1 }
  });
  definePort({
    name: "shardctrler-minimal-again",
    description: "MIT shardctrler TestMinimalAgain1: minimal movement after a join and after a leave.",
    durationUs: main.timeUs + SECOND8,
    scripts: [main]
  });
}

// systems/shardkv/contract.ts
function shardGroupState(view, node) {
  const inspected = view.inspect(node);
  return inspected?.shardGroup === void 0 ? void 0 : inspected;
}

// invariants/shardkv.ts
function shardkvOneGroupPerShard() {
  const owner = /* @__PURE__ */ new Map();
  return {
    name: "shardkv-one-group-per-shard",
    onObservation(record2, view) {
      if (record2.observation.type !== "shardkv-served") {
        return void 0;
      }
      const { gid, shard, num } = record2.observation;
      const key2 = num * NSHARDS + shard;
      const first = owner.get(key2);
      if (first === void 0) {
        owner.set(key2, { gid, node: record2.node, timeUs: record2.timeUs });
        return void 0;
      }
      return first.gid === gid ? void 0 : `groups ${first.gid} (${view.name(first.node)} at ${ms3(first.timeUs)}) and ${gid} (${view.name(record2.node)}) both served shard ${shard} under configuration ${num}: two groups answered for one shard`;
    }
  };
}
function shardkvConfigsInOrder() {
  return {
    name: "shardkv-configs-in-order",
    onObservation(record2, view) {
      const observation = record2.observation;
      if (observation.type !== "shardkv-config-applied") {
        return void 0;
      }
      const from2 = observation["from"];
      const to = observation["to"];
      return to === from2 + 1 ? void 0 : `${view.name(record2.node)} (group ${String(observation["gid"])}) went from configuration ${from2} to ${to}: configurations must be applied one at a time, none skipped`;
    }
  };
}
function ms3(us) {
  return `${(us / 1e3).toFixed(3)} ms`;
}
function groupReplicas(view) {
  const replicas = [];
  for (const node of view.servers) {
    const state = shardGroupState(view, node);
    if (state !== void 0) {
      replicas.push({ node, state });
    }
  }
  return replicas;
}
function finalHolder(replicas, shard) {
  const newest = Math.max(0, ...replicas.map(({ state }) => state.shardGroup.config.num));
  let best;
  for (const replica of replicas) {
    const group = replica.state.shardGroup;
    if (group.config.num !== newest || group.config.shards[shard] !== group.gid) {
      continue;
    }
    const status = group.shards[shard]?.status;
    if (status !== "serving" && status !== "confirming") {
      continue;
    }
    if (best === void 0 || replica.state.appliedIndex > best.state.appliedIndex) {
      best = replica;
    }
  }
  return best;
}
function shardkvAppendsExactlyOnce() {
  return {
    name: "shardkv-appends-exactly-once",
    atEnd(view) {
      const appends = appendsOf(view.history);
      if (appends.size === 0) {
        return void 0;
      }
      const replicas = groupReplicas(view);
      const keys = [...new Set([...appends.values()].map((record2) => record2.key))].sort();
      for (const key2 of keys) {
        const shard = keyToShard(key2);
        const holder = finalHolder(replicas, shard);
        if (holder === void 0) {
          return `no up replica serves shard ${shard} (key ${JSON.stringify(key2)}) under the newest configuration at the end`;
        }
        const group = holder.state.shardGroup;
        const where = `${view.name(holder.node)} (group ${group.gid}, configuration ${group.config.num})`;
        const value = group.shards[shard]?.data.get(key2) ?? "";
        const verdict = checkKeyValue(where, key2, value, appends);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      return void 0;
    }
  };
}
function shardkvStateBounded() {
  return {
    name: "shardkv-stored-state-bounded",
    atEnd(view) {
      for (const { node, state } of groupReplicas(view)) {
        const group = state.shardGroup;
        if (!group.stable) {
          continue;
        }
        for (let shard = 0; shard < NSHARDS; shard++) {
          const held = group.shards[shard];
          if (held !== void 0 && held.status === "absent" && held.data.size > 0) {
            return `${view.name(node)} (group ${group.gid}, configuration ${group.config.num}) still holds ${held.data.size} keys of shard ${shard}, which it does not own, after migrations finished: a handed-off shard was never deleted`;
          }
        }
      }
      return void 0;
    }
  };
}
function shardkvMigrationsFinish(madeByUs) {
  return {
    name: "shardkv-migrations-finish",
    atEnd(view, observations) {
      let target = 0;
      for (const record2 of observations) {
        if (record2.observation.type === "ctrl-config-made" && record2.timeUs <= madeByUs) {
          target = Math.max(target, record2.observation["num"]);
        }
      }
      const byGroup = /* @__PURE__ */ new Map();
      for (const { state } of groupReplicas(view)) {
        const list3 = byGroup.get(state.shardGroup.gid) ?? [];
        list3.push(state);
        byGroup.set(state.shardGroup.gid, list3);
      }
      for (const [gid, states] of [...byGroup].sort(([a], [b]) => a - b)) {
        const done = states.some(
          ({ shardGroup }) => shardGroup.config.num > target || shardGroup.config.num === target && shardGroup.stable
        );
        if (!done) {
          const best = Math.max(...states.map((state) => state.shardGroup.config.num));
          return `after the settle phase no replica of group ${gid} has finished configuration ${target}, made by ${ms3(madeByUs)} (the furthest is at ${best}${states.some((state) => !state.shardGroup.stable) ? ", still migrating" : ""}): reconfiguration stopped making progress`;
        }
      }
      return void 0;
    }
  };
}
function shardkvInvariants(settledByUs, options = {}) {
  return [
    kvLinearizable(options),
    shardkvAppendsExactlyOnce(),
    shardkvOneGroupPerShard(),
    shardkvConfigsInOrder(),
    shardkvStateBounded(),
    shardkvMigrationsFinish(settledByUs)
  ];
}
var shardkvSometimes = {
  "a shard moved while clients wrote to it": (record2) => record2.observation.type === "shardkv-shard-installed" && record2.observation["keys"] > 0,
  "a group served a received shard before its migration finished": (record2) => record2.observation.type === "shardkv-served" && record2.observation["partial"] === true,
  "a handed-off shard was deleted": (record2) => record2.observation.type === "shardkv-shard-deleted",
  "a client was told wrong-group and recovered": (record2) => record2.observation.type === "shardkv-recovered-from-wrong-group"
};
function shardkvPersistedBounded(bounds) {
  return {
    name: "shardkv-persisted-state-bounded",
    atEnd(view) {
      let total = 0;
      const held = [];
      for (const { node, state } of groupReplicas(view)) {
        const max2 = bounds.raftStateBytesMax;
        if (max2 !== void 0 && state.raftStateBytes > max2) {
          return `${view.name(node)} holds ${state.raftStateBytes} bytes of persisted Raft state at the end, more than the bound of ${max2}: the log is not being compacted`;
        }
        total += state.snapshotBytes;
        held.push(`${view.name(node)} ${state.snapshotBytes}`);
      }
      const max = bounds.totalSnapshotBytesMax;
      return max !== void 0 && total > max ? `the replica groups' servers hold ${total} bytes of snapshots together (${held.join(", ")}), more than the bound of ${max}: shards handed off were not deleted` : void 0;
    }
  };
}

// scenarios/shardkv.ts
var MS11 = 1e3;
var SECOND9 = 1e6;
var GIDS = [1, 2, 3];
var SERVERS_PER_GROUP2 = 3;
var SHARDKV_GROUPS = [
  {
    name: CTRLER_GROUP,
    size: 3,
    prefix: "ctrl",
    program: ctrlerServer({ snapshotEveryEntries: 50, logRewriteBytes: 16 * 1024 })
  },
  ...GIDS.map(
    (gid) => ({
      name: groupName(gid),
      size: SERVERS_PER_GROUP2,
      prefix: `${groupName(gid)}n`,
      program: groupServer({ snapshotEveryEntries: 100, logRewriteBytes: 32 * 1024 })
    })
  ),
  { name: "admins", size: 1, prefix: "a", client: true, program: shardAdmin() },
  { name: "clients", size: 5, prefix: "c", client: true, program: shardClient() },
  // The prober: 3 s into the settle phase, a Put and a Get on every shard (liveness).
  { name: "probes", size: 1, prefix: "p", client: true, program: shardProber() }
];
var PROBE_KEYS = (() => {
  const keys = [];
  for (let i = 0; keys.filter((key2) => key2 !== void 0).length < NSHARDS && i < 1e4; i++) {
    keys[keyToShard(`p${i}`)] ??= `p${i}`;
  }
  return keys;
})();
function probeScript(atUs) {
  return PROBE_KEYS.flatMap((key2) => [
    { atUs, op: { f: "put", key: key2, value: `probe ${key2}` } },
    { atUs, op: { f: "get", key: key2 } }
  ]);
}
function drawAdminScript(seed, durationUs) {
  const random = Random.fromSeed(seed).fork("shardkv-admin");
  const joined = new Set(random.chance(0.5) ? [1] : [1, 2]);
  const steps = [{ atUs: 100 * MS11, op: { f: "join", gids: [...joined] } }];
  for (let atUs = 100 * MS11 + random.between(300 * MS11, 2 * SECOND9); atUs < durationUs - SECOND9; ) {
    const out = GIDS.filter((gid) => !joined.has(gid));
    const roll = random.int(3);
    if (roll === 0 && out.length > 0) {
      const gid = random.pick(out);
      joined.add(gid);
      steps.push({ atUs, op: { f: "join", gids: [gid] } });
    } else if (roll === 1 && joined.size > 1) {
      const gid = random.pick([...joined].sort());
      joined.delete(gid);
      steps.push({ atUs, op: { f: "leave", gids: [gid] } });
    } else {
      const gid = random.pick([...joined].sort());
      steps.push({ atUs, op: { f: "move", shard: random.int(NSHARDS), gid } });
    }
    atUs += random.between(300 * MS11, 2 * SECOND9);
  }
  return steps;
}
registerScenario({
  name: "shardkv",
  description: "A shard controller and three replica groups on Raft, Joins/Leaves/Moves drawn from the seed while clients append, put and get on every shard, every fault kind and group-aware partitions; linearizable across migrations, appends exactly once, one group per shard per configuration, configurations in order, handed-off shards deleted, every group finishes the newest configuration after settle.",
  system: "shardkv",
  groups: SHARDKV_GROUPS,
  durationUs: 8 * SECOND9,
  // Each seed draws its shape (pin with --set, e.g. durationUs=8000000 clients=3
  // thinkUsMax=20000): short dense runs are cheap and find most bugs, long ones move more.
  shape: {
    durationUs: { min: 2 * SECOND9, max: 12 * SECOND9 },
    groupSizes: { clients: [1, 2, 3, 4, 5] },
    workload: { thinkUsMax: { min: 2e3, max: 4e4 } }
  },
  settleUs: 6 * SECOND9,
  faults: {
    // Durable corruption as in `raft`: the media-fault atlas picks a minority of each group's
    // servers (the controller's too), which detect it at restart and refuse to start; the
    // groups keep a running majority. Latent sector errors stay out, as in `raft`.
    eligible: FAULT_KINDS.filter((kind) => kind !== "latent-sector"),
    swarm: true
  },
  workload: {
    appendPercent: 45,
    putPercent: 10,
    sharedKeys: 3,
    thinkUsMax: 2e4,
    attemptTimeoutUs: 2e5,
    giveUpUs: 2 * SECOND9,
    opsMax: 2e3,
    // Sync marks on, as in `raft`: these disks rot. Plans kept from before run without.
    syncMarks: true
  },
  shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
  // Shrink drops the administrator's Joins, Leaves and Moves that the failure does not need.
  shrinkableWorkloadLists: [adminScriptKey(0)],
  // The service's own bugs, and Raft's in every group (the controller's and the replicas').
  variants: {
    ...SHARDKV_VARIANTS,
    ...Object.fromEntries(
      Object.entries(RAFT_VARIANTS).map(([name, what]) => [`raft:${name}`, what])
    )
  },
  invariants: (plan) => [
    ...raftSafetyInvariants(),
    ...ctrlerInvariants(plan.durationUs),
    ...shardkvInvariants(plan.durationUs + plan.settleUs - 3 * SECOND9),
    // Every operation called 3 s into the settle phase completes, the prober's Put and Get on
    // every shard among them.
    kvOperationsComplete(plan.durationUs + 3 * SECOND9, plan.durationUs + plan.settleUs - SECOND9)
  ],
  sometimes: {
    ...Object.fromEntries(
      Object.entries(raftSometimes).filter(([name]) => name !== "a membership change completed")
    ),
    "a retried write was recognised as a duplicate": kvSometimes["a retried write was recognised as a duplicate"],
    ...shardkvSometimes,
    ...raftMediaFaultSometimes
  },
  plan: (seed, base) => ({
    ...base,
    workload: {
      ...base.workload,
      [adminScriptKey(0)]: JSON.stringify(drawAdminScript(seed, base.durationUs)),
      [probeScriptKey(0)]: JSON.stringify(probeScript(base.durationUs + 3 * SECOND9))
    }
  })
});

// scenarios/shardkv-mit.ts
var MS12 = 1e3;
var SECOND10 = 1e6;
function topologyGroups(gids, clients, raft) {
  return [
    {
      name: CTRLER_GROUP,
      size: 3,
      prefix: "ctrl",
      program: ctrlerServer({ snapshotEveryEntries: 50 })
    },
    ...Array.from(
      { length: gids },
      (_, index) => ({
        name: groupName(index + 1),
        size: 3,
        prefix: `${groupName(index + 1)}n`,
        program: groupServer(raft)
      })
    ),
    { name: "admins", size: 1, prefix: "a", client: true, program: shardAdmin() },
    { name: "clients", size: clients, prefix: "c", client: true, program: shardClient() }
  ];
}
var APPENDERS = {
  appendPercent: 60,
  putPercent: 0,
  sharedKeys: 0,
  thinkUsMax: 10 * MS12,
  attemptTimeoutUs: 100 * MS12,
  giveUpUs: 0,
  opsMax: 1e5
};
function definePort2(port) {
  const raft = {
    ...raftOptionsFor({ maxRaftStateBytes: port.maxRaftStateBytes ?? 0 }),
    ...port.raft
  };
  const groups3 = topologyGroups(port.gids, port.clients, raft);
  const topology = new Topology(planGroups({ groups: groups3 }));
  const faults5 = [];
  for (const [atUs, change, gid, servers] of port.groups ?? []) {
    const members = topology.members(groupName(gid));
    for (const index of servers ?? [0, 1, 2]) {
      const node = members[index];
      faults5.push(
        change === "down" ? { atUs, kind: "crash", node } : { atUs, kind: "restart", node }
      );
    }
  }
  const workload = {
    ...APPENDERS,
    ...port.workload,
    [adminScriptKey(0)]: JSON.stringify(port.admin.map(([atUs, op]) => ({ atUs, op })))
  };
  for (const [index, script5] of (port.scripts ?? []).entries()) {
    workload[scriptKey(index)] = JSON.stringify(script5);
  }
  const bound = port.maxRaftStateBytes ?? 0;
  registerScenario({
    name: port.name,
    description: `MIT ${port.ports}: ${port.description}`,
    system: "shardkv",
    groups: groups3,
    durationUs: port.durationUs,
    settleUs: 3 * SECOND10,
    faults: { eligible: [], swarm: false },
    workload,
    shrinkableWorkload: KV_SHRINKABLE_WORKLOAD,
    variants: GROUP_VARIANTS,
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...ctrlerInvariants(plan.durationUs),
      ...shardkvInvariants(plan.durationUs + plan.settleUs - 3 * SECOND10),
      kvOperationsComplete(0, plan.durationUs),
      ...bound > 0 ? [shardkvPersistedBounded({ raftStateBytesMax: 8 * bound })] : [],
      ...port.extraInvariants ?? []
    ],
    sometimes: shardkvSometimes,
    ...port.checks === void 0 ? {} : { checks: port.checks },
    plan: (_seed, base) => ({
      ...base,
      knobs: port.unreliable ? unreliableKnobs(base.knobs) : base.knobs,
      faults: faults5.map((fault) => ({ ...fault })),
      script: (port.checkAtUs ?? []).map(([atUs, check]) => ({ atUs, kind: "check", check }))
    })
  });
}
var join = (...gids) => ({ f: "join", gids });
var leave = (...gids) => ({ f: "leave", gids });
function configAfter(...ops) {
  let config = INITIAL_CONFIG;
  for (const op of ops) {
    if (op.f === "join") {
      config = nextConfig(config, { op: "join", groups: op.gids.map((gid) => [gid, []]) });
    } else if (op.f === "leave") {
      config = nextConfig(config, { op: "leave", gids: op.gids });
    }
  }
  return config;
}
var KEY_OF_SHARD = (() => {
  const keys = [];
  for (let i = 0; keys.filter((key2) => key2 !== void 0).length < NSHARDS && i < 1e4; i++) {
    const key2 = String(i);
    keys[keyToShard(key2)] ??= key2;
  }
  return keys;
})();
function completed(view, keys, afterUs) {
  return view.history.filter((op) => {
    const input = op.input;
    return op.callUs >= afterUs && input.key !== void 0 && keys.includes(input.key);
  }).map((op) => op.returnUs !== void 0);
}
function servedNotBlocked(served, blocked, sinceUs, short, leaked) {
  return (view) => {
    const done = completed(view, served, sinceUs);
    if (done.length !== served.length || !done.every(Boolean)) {
      return short(done.filter(Boolean).length);
    }
    return completed(view, blocked, sinceUs).some(Boolean) ? leaked : void 0;
  };
}
var STUCK_SERVED = "a Get of a shard still on the dead group 1 completed: served before its data arrived";
function ownedBy(config, gid) {
  return KEY_OF_SHARD.filter((_, shard) => config.shards[shard] === gid);
}
function perKeyScripts(putUs, getUs, value = (key2) => `v${key2}`) {
  return KEY_OF_SHARD.map((key2) => [
    { atUs: putUs, op: { f: "put", key: key2, value: value(key2) } },
    { atUs: getUs, op: { f: "get", key: key2 } }
  ]);
}
{
  const config = configAfter(join(1), join(2));
  const up = ownedBy(config, 1);
  const down = ownedBy(config, 2);
  definePort2({
    name: "shardkv-mit-static-shards",
    ports: "TestStaticShards5A",
    description: "two groups; with group 2 shut down only the Gets of group 1\u2019s shards complete (the data really is sharded); all complete once it restarts.",
    gids: 2,
    clients: NSHARDS,
    durationUs: 3 * SECOND10,
    admin: [
      [100 * MS12, join(1)],
      [150 * MS12, join(2)]
    ],
    scripts: perKeyScripts(500 * MS12, 1500 * MS12),
    groups: [
      [1200 * MS12, "down", 2],
      [2600 * MS12, "up", 2]
    ],
    checks: {
      "only group 1 answered": servedNotBlocked(
        up,
        down,
        1400 * MS12,
        (done) => `of the Gets of group 1's ${up.length} shards only ${done} completed while group 2 was down`,
        "a Get of a shard of group 2 completed while group 2 was down: the data is not sharded as the configuration says"
      )
    },
    checkAtUs: [[2500 * MS12, "only group 1 answered"]]
  });
}
definePort2({
  name: "shardkv-mit-join-leave",
  ports: "TestJoinLeave5B",
  description: "appends while group 2 joins and group 1 leaves and is shut down; every value survives.",
  gids: 2,
  clients: 5,
  durationUs: 3 * SECOND10,
  admin: [
    [100 * MS12, join(1)],
    [800 * MS12, join(2)],
    [1600 * MS12, leave(1)]
  ],
  groups: [[2400 * MS12, "down", 1]]
});
definePort2({
  name: "shardkv-mit-snapshot",
  ports: "TestSnapshot5B",
  description: "maxraftstate 1000; joins and leaves of three groups, then every server of every group restarts; logs stay bounded and values survive.",
  gids: 3,
  clients: 5,
  durationUs: 4 * SECOND10,
  maxRaftStateBytes: 1e3,
  admin: [
    [100 * MS12, join(1)],
    [600 * MS12, join(2)],
    [1100 * MS12, join(3)],
    [1600 * MS12, leave(2)],
    [2100 * MS12, join(2)],
    [2600 * MS12, leave(1)]
  ],
  groups: [1, 2, 3].flatMap((gid) => [
    [3200 * MS12, "down", gid],
    [3400 * MS12, "up", gid]
  ])
});
definePort2({
  name: "shardkv-mit-miss-change",
  ports: "TestMissChange5B",
  description: "one server of each group is down while configurations pass, then another; the restarted servers catch up through every configuration in order.",
  gids: 3,
  clients: 5,
  durationUs: 5 * SECOND10,
  maxRaftStateBytes: 1e3,
  admin: [
    [100 * MS12, join(1)],
    [1e3 * MS12, join(2)],
    [1400 * MS12, leave(1)],
    [1800 * MS12, join(3)],
    [2200 * MS12, join(1)],
    [3200 * MS12, leave(2)],
    [3600 * MS12, leave(3)],
    [4e3 * MS12, join(2)]
  ],
  groups: [1, 2, 3].flatMap((gid) => [
    [700 * MS12, "down", gid, [0]],
    [2600 * MS12, "up", gid, [0]],
    [2800 * MS12, "down", gid, [1]],
    [4400 * MS12, "up", gid, [1]]
  ])
});
function shutdownEach(fromUs, stepUs, gids) {
  return Array.from({ length: gids }, (_, index) => [
    [fromUs + index * stepUs, "down", index + 1],
    [fromUs + index * stepUs + stepUs / 2, "up", index + 1]
  ]).flat();
}
definePort2({
  name: "shardkv-mit-concurrent1",
  ports: "TestConcurrent1_5B",
  description: "ten appenders while groups join and leave and each group in turn shuts down and restarts; exact final values.",
  gids: 3,
  clients: 10,
  durationUs: 4 * SECOND10,
  admin: [
    [100 * MS12, join(1)],
    [500 * MS12, join(2)],
    [900 * MS12, join(3)],
    [1300 * MS12, leave(1)],
    [1700 * MS12, leave(2)],
    [2100 * MS12, join(1)],
    [2500 * MS12, join(2)]
  ],
  groups: shutdownEach(2800 * MS12, 300 * MS12, 3)
});
definePort2({
  name: "shardkv-mit-concurrent2",
  ports: "TestConcurrent2_5B",
  description: "groups leave and rejoin in turn while clients append, then every group shuts down and restarts; exact final values.",
  gids: 3,
  clients: 5,
  durationUs: 5 * SECOND10,
  admin: [
    [100 * MS12, join(2)],
    [200 * MS12, join(1)],
    [300 * MS12, join(3)],
    [900 * MS12, leave(1)],
    [1200 * MS12, leave(3)],
    [1800 * MS12, join(1)],
    [2100 * MS12, join(3)],
    [2700 * MS12, leave(1)],
    [3e3 * MS12, leave(3)],
    [3600 * MS12, join(1)],
    [3900 * MS12, join(3)]
  ],
  groups: shutdownEach(4200 * MS12, 200 * MS12, 3)
});
{
  const random = Random.fromSeed(3).fork("shardkv-mit-concurrent3");
  const admin = [[100 * MS12, join(1)]];
  const joined = /* @__PURE__ */ new Set([1]);
  for (let atUs = 400 * MS12; atUs < 5 * SECOND10; atUs += random.between(200 * MS12, 500 * MS12)) {
    const gid = 1 + random.int(3);
    if (joined.has(gid) && joined.size > 1) {
      joined.delete(gid);
      admin.push([atUs, leave(gid)]);
    } else if (!joined.has(gid)) {
      joined.add(gid);
      admin.push([atUs, join(gid)]);
    }
  }
  const groups3 = [];
  for (const atUs of [1500 * MS12, 3e3 * MS12, 4500 * MS12]) {
    for (const gid of [1, 2, 3]) {
      groups3.push([atUs, "down", gid], [atUs + 200 * MS12, "up", gid]);
    }
  }
  definePort2({
    name: "shardkv-mit-concurrent3",
    ports: "TestConcurrent3_5B",
    description: "five seconds of random joins and leaves with crashes and restarts of all groups, maxraftstate 300; exact final values.",
    gids: 3,
    clients: 5,
    durationUs: 5500 * MS12,
    maxRaftStateBytes: 300,
    admin,
    groups: groups3
  });
}
{
  const cycle = [join(1), join(2), join(3), leave(1), leave(2), join(1), join(2), leave(3)];
  const every = (stepUs) => cycle.map((op, index) => [100 * MS12 + index * stepUs, op]);
  for (const [name, ports, clients, stepUs, randomKeys] of [
    ["shardkv-mit-unreliable1", "TestUnreliable1_5B", 5, 500 * MS12, false],
    ["shardkv-mit-unreliable2", "TestUnreliable2_5B", 10, 250 * MS12, false],
    ["shardkv-mit-unreliable3", "TestUnreliable3_5B", 5, 500 * MS12, true]
  ]) {
    definePort2({
      name,
      ports,
      description: randomKeys ? "an unreliable network, joins and leaves, random Gets, Puts and Appends; the history must be linearizable." : `an unreliable network, a join or leave every ${stepUs / MS12} ms and ${clients} concurrent appenders; exact final values, so duplicate tables must move with their shards.`,
      gids: 3,
      clients,
      durationUs: 4 * SECOND10,
      maxRaftStateBytes: 1e3,
      unreliable: true,
      workload: randomKeys ? { appendPercent: 40, putPercent: 20, sharedKeys: 10 } : {},
      admin: every(stepUs)
    });
  }
}
{
  const KEYS = 30;
  const VALUE_BYTES = 1e3;
  const scripts = [0, 1, 2].map(
    (client) => Array.from({ length: KEYS / 3 }, (_, i) => {
      const key2 = String(client * (KEYS / 3) + i);
      const op = { f: "put", key: key2, value: key2.padEnd(VALUE_BYTES, "x") };
      return { atUs: 300 * MS12, op };
    })
  );
  definePort2({
    name: "shardkv-mit-challenge1-delete",
    ports: "TestChallenge1Delete",
    description: "a snapshot after every entry, thirty 1 KB values, join and leave cycles; the total state of all servers stays under 3 \xD7 (27 + 6 + 6) KB, so handed-off shards must be deleted.",
    gids: 3,
    clients: 3,
    durationUs: 4 * SECOND10,
    raft: { snapshotEveryEntries: 1, logRewriteBytes: 4 * 1024 },
    scripts,
    admin: [
      [100 * MS12, join(1)],
      [1e3 * MS12, join(2)],
      [1500 * MS12, join(3)],
      [2e3 * MS12, leave(1)],
      [2500 * MS12, leave(2)],
      [3e3 * MS12, join(1)],
      [3500 * MS12, leave(3)]
    ],
    extraInvariants: [
      shardkvPersistedBounded({ totalSnapshotBytesMax: 3 * (27e3 + 6e3 + 6e3) })
    ]
  });
}
{
  const before2 = configAfter(join(1), join(2));
  const after = configAfter(join(1), join(2), leave(1));
  const unaffected = ownedBy(before2, 2).filter((key2) => after.shards[keyToShard(key2)] === 2);
  const stuck = ownedBy(before2, 1);
  definePort2({
    name: "shardkv-mit-challenge2-unaffected",
    ports: "TestChallenge2Unaffected",
    description: "group 1 is killed and leaves; while group 2 cannot fetch its shards it keeps serving the shards it owned already.",
    gids: 2,
    clients: NSHARDS,
    durationUs: 3 * SECOND10,
    admin: [
      [100 * MS12, join(1)],
      [150 * MS12, join(2)],
      [1100 * MS12, leave(1)]
    ],
    scripts: perKeyScripts(400 * MS12, 1500 * MS12),
    groups: [
      [1e3 * MS12, "down", 1],
      [2800 * MS12, "up", 1]
    ],
    checks: {
      "unaffected shards served": servedNotBlocked(
        unaffected,
        stuck,
        1400 * MS12,
        (done) => `group 2 served only ${done} of ${unaffected.length} Gets of shards it owned before and after group 1 left, while the migration from group 1 was stuck`,
        STUCK_SERVED
      )
    },
    checkAtUs: [[2600 * MS12, "unaffected shards served"]]
  });
}
{
  const before2 = configAfter(join(1), join(2), join(3));
  const fromThree = ownedBy(before2, 3);
  const stuck = ownedBy(before2, 1);
  definePort2({
    name: "shardkv-mit-challenge2-partial",
    ports: "TestChallenge2Partial",
    description: "three groups; group 1 is killed, groups 1 and 3 leave; group 2 serves the shards received from group 3 while group 1\u2019s are still pending.",
    gids: 3,
    clients: NSHARDS,
    durationUs: 3 * SECOND10,
    admin: [
      [100 * MS12, join(1)],
      [150 * MS12, join(2)],
      [200 * MS12, join(3)],
      [1100 * MS12, leave(1, 3)]
    ],
    scripts: perKeyScripts(400 * MS12, 1500 * MS12),
    groups: [
      [1e3 * MS12, "down", 1],
      [2800 * MS12, "up", 1]
    ],
    checks: {
      "shards from group 3 served": servedNotBlocked(
        fromThree,
        stuck,
        1400 * MS12,
        (done) => `group 2 served only ${done} of ${fromThree.length} Gets of the shards it received from group 3 while group 1's were pending`,
        STUCK_SERVED
      )
    },
    checkAtUs: [[2600 * MS12, "shards from group 3 served"]]
  });
}

// systems/outbox/wal.ts
import { decode as decode2, encode as encode2 } from "@msgpack/msgpack";

// systems/outbox/crc32c.ts
var CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 2197175160 ^ c >>> 1 : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();
function crc32c(data) {
  let crc = 4294967295;
  for (let i = 0; i < data.length; i++) {
    crc = CRC32C_TABLE[(crc ^ data[i]) & 255] ^ crc >>> 8;
  }
  return (crc ^ 4294967295) >>> 0;
}

// systems/outbox/wal.ts
var RECORD_HEADER_BYTES = 8;
var BODY_FIXED_BYTES2 = 1 + 1 + 4 + 8 + 4;
var RECORD_BYTES_MAX = 64 * 1024;
var KIND_WRITE = 1;
var KIND_COMMIT = 2;
var FLAG_LAST_OF_CHUNK2 = 1;
var TWO_322 = 2 ** 32;
var CHUNK_TXS_MAX = 64;
var QUEUED_TXS_MAX = 1024;
var WAL_FILES_MAX = 1e3;
function encodeRecord2(record2, chunk, last) {
  const payload = record2.kind === "write" ? encode2([record2.write.table, record2.write.key, record2.write.value]) : encode2([record2.txId, record2.count]);
  const length = BODY_FIXED_BYTES2 + payload.length;
  if (RECORD_HEADER_BYTES + length > RECORD_BYTES_MAX) {
    fail(`a WAL record of ${RECORD_HEADER_BYTES + length} bytes is over the limit`);
  }
  const bytes = new Uint8Array(RECORD_HEADER_BYTES + length);
  const view = new DataView(bytes.buffer);
  const body = RECORD_HEADER_BYTES;
  view.setUint8(body, record2.kind === "write" ? KIND_WRITE : KIND_COMMIT);
  view.setUint8(body + 1, last ? FLAG_LAST_OF_CHUNK2 : 0);
  view.setUint32(body + 2, chunk);
  assert(Number.isSafeInteger(record2.lsn) && record2.lsn >= 1, "an LSN is a positive integer");
  view.setUint32(body + 6, Math.floor(record2.lsn / TWO_322));
  view.setUint32(body + 10, record2.lsn % TWO_322);
  view.setUint32(body + 14, record2.index);
  bytes.set(payload, body + BODY_FIXED_BYTES2);
  view.setUint32(0, length);
  view.setUint32(4, crc32c(bytes.subarray(body)));
  return bytes;
}
function txRecords(tx) {
  const records = tx.writes.map((write, index) => ({
    kind: "write",
    lsn: tx.lsn,
    index,
    write
  }));
  records.push({
    kind: "commit",
    lsn: tx.lsn,
    index: tx.writes.length,
    txId: tx.txId,
    count: tx.writes.length
  });
  return records;
}
function encodeChunk(txs, chunk) {
  assert(txs.length > 0, "a chunk holds at least one transaction");
  const parts = [];
  let total = 0;
  for (const [txAt, tx] of txs.entries()) {
    const records = txRecords(tx);
    for (const [at2, record2] of records.entries()) {
      const part = encodeRecord2(
        record2,
        chunk,
        txAt === txs.length - 1 && at2 === records.length - 1
      );
      parts.push(part);
      total += part.length;
    }
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
function writeRecordBytes(write) {
  return RECORD_HEADER_BYTES + BODY_FIXED_BYTES2 + encode2([write.table, write.key, write.value]).length;
}
function isString(value) {
  return typeof value === "string";
}
function parseRecord2(bytes, at2) {
  if (at2 + RECORD_HEADER_BYTES > bytes.length) {
    return "partial record header";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(at2);
  if (length < BODY_FIXED_BYTES2 || RECORD_HEADER_BYTES + length > RECORD_BYTES_MAX) {
    return `implausible record length ${length}`;
  }
  const end = at2 + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) {
    return "record runs past the end of the file";
  }
  const body = at2 + RECORD_HEADER_BYTES;
  if (crc32c(bytes.subarray(body, end)) !== view.getUint32(at2 + 4)) {
    return "checksum mismatch";
  }
  const kind = view.getUint8(body);
  const flags = view.getUint8(body + 1);
  const chunk = view.getUint32(body + 2);
  const lsn = view.getUint32(body + 6) * TWO_322 + view.getUint32(body + 10);
  const index = view.getUint32(body + 14);
  let payload;
  try {
    payload = decode2(bytes.subarray(body + BODY_FIXED_BYTES2, end));
  } catch {
    return "payload is not msgpack";
  }
  if (!Array.isArray(payload) || lsn < 1 || (flags & ~FLAG_LAST_OF_CHUNK2) !== 0) {
    return "malformed record";
  }
  const last = (flags & FLAG_LAST_OF_CHUNK2) !== 0;
  if (kind === KIND_WRITE) {
    const [table, key2, value] = payload;
    if (payload.length !== 3 || !isString(table) || !isString(key2) || value === void 0) {
      return "malformed write record";
    }
    return {
      record: { kind: "write", lsn, index, write: { table, key: key2, value } },
      chunk,
      last,
      end
    };
  }
  if (kind === KIND_COMMIT) {
    const [txId, count2] = payload;
    if (payload.length !== 2 || !isString(txId) || typeof count2 !== "number") {
      return "malformed commit record";
    }
    return { record: { kind: "commit", lsn, index, txId, count: count2 }, chunk, last, end };
  }
  return `unknown record kind ${kind}`;
}
function decodeWalFile(bytes) {
  const txs = [];
  let chunkTxs = [];
  let writes = [];
  let offset = 0;
  let validBytes = 0;
  let firstChunk = 0;
  let lastChunk = 0;
  let chunk = 0;
  let chunkOpen = false;
  let expectedLsn = 0;
  let expectedIndex = 0;
  let failure = "";
  while (offset < bytes.length) {
    const parsed = parseRecord2(bytes, offset);
    if (typeof parsed === "string") {
      failure = parsed;
      break;
    }
    const { record: record2 } = parsed;
    if (parsed.chunk !== (chunkOpen ? chunk : chunk + 1)) {
      failure = `a record of chunk ${parsed.chunk} where chunk ${chunkOpen ? chunk : chunk + 1} was expected`;
      break;
    }
    if (expectedLsn === 0 ? record2.index !== 0 : record2.lsn !== expectedLsn || record2.index !== expectedIndex) {
      failure = `record (${record2.lsn}, ${record2.index}) out of sequence`;
      break;
    }
    if (record2.kind === "commit" ? record2.count !== record2.index : parsed.last) {
      failure = `a malformed transaction at LSN ${record2.lsn}`;
      break;
    }
    chunk = parsed.chunk;
    offset = parsed.end;
    if (record2.kind === "write") {
      expectedLsn = record2.lsn;
      expectedIndex = record2.index + 1;
      writes.push(record2.write);
    } else {
      chunkTxs.push({ lsn: record2.lsn, txId: record2.txId, writes });
      writes = [];
      expectedLsn = record2.lsn + 1;
      expectedIndex = 0;
    }
    chunkOpen = !parsed.last;
    if (parsed.last) {
      txs.push(...chunkTxs);
      chunkTxs = [];
      validBytes = offset;
      firstChunk = firstChunk === 0 ? chunk : firstChunk;
      lastChunk = chunk;
    }
  }
  if (offset === bytes.length && !chunkOpen) {
    return { txs, validBytes, firstChunk, lastChunk, tornChunk: 0, status: { kind: "clean" } };
  }
  const reason = failure === "" ? "the last chunk is incomplete" : failure;
  const tornChunk = chunkOpen ? chunk : chunk + 1;
  for (let at2 = validBytes + 1; at2 + RECORD_HEADER_BYTES + BODY_FIXED_BYTES2 <= bytes.length; at2++) {
    const later = parseRecord2(bytes, at2);
    if (typeof later === "string") {
      continue;
    }
    if (later.chunk !== tornChunk) {
      return {
        txs,
        validBytes,
        firstChunk,
        lastChunk,
        tornChunk,
        status: {
          kind: "corrupt",
          offset: validBytes,
          reason: `${reason} at byte ${offset}, yet a record of chunk ${later.chunk} follows it at byte ${at2}`
        }
      };
    }
  }
  return {
    txs,
    validBytes,
    firstChunk,
    lastChunk,
    tornChunk,
    status: { kind: "torn-tail", offset: validBytes, reason: `${reason} at byte ${offset}` }
  };
}
function walFileName(dir, generation) {
  return `${dir}${String(generation).padStart(10, "0")}.log`;
}
function recoverWalFiles(dir, names, read) {
  const files = names.filter((name) => name.startsWith(dir) && /^\d{10}\.log$/.test(name.slice(dir.length))).sort();
  if (files.length > WAL_FILES_MAX) {
    return {
      file: dir,
      offset: 0,
      reason: `${files.length} WAL files, more than ${WAL_FILES_MAX}`
    };
  }
  const txs = [];
  let lastChunk = 0;
  let lastFileCut = null;
  for (const [at2, file] of files.entries()) {
    const bytes = read(file);
    const decoded = decodeWalFile(bytes);
    if (decoded.status.kind === "corrupt") {
      return { file, offset: decoded.status.offset, reason: decoded.status.reason };
    }
    const first = decoded.txs[0];
    const expectedLsn = txs.length + 1;
    if (first !== void 0 && first.lsn !== expectedLsn) {
      return {
        file,
        offset: 0,
        reason: `the file starts at LSN ${first.lsn} where LSN ${expectedLsn} was expected: durable transactions are missing`
      };
    }
    txs.push(...decoded.txs);
    lastChunk = decoded.lastChunk;
    lastFileCut = decoded.status.kind === "torn-tail" && at2 === files.length - 1 ? {
      file,
      offset: decoded.status.offset,
      bytes: bytes.length - decoded.status.offset,
      reason: decoded.status.reason
    } : null;
  }
  const lastFile = files[files.length - 1];
  const generation = lastFile === void 0 ? 0 : Number(lastFile.slice(dir.length, -4));
  const nextFile = lastFile !== void 0 && lastFileCut === null ? lastFile : walFileName(dir, generation + 1);
  const nextChunk = nextFile === lastFile ? lastChunk + 1 : 1;
  return { txs, files, cut: lastFileCut, nextFile, nextChunk };
}
function isWalRefusal(result) {
  return "reason" in result && !("txs" in result);
}
var Wal = class {
  constructor(disk, file, endLsn, nextChunk) {
    this.disk = disk;
    this.file = file;
    this.appendedLsn = endLsn;
    this.durableLsn = endLsn;
    this.nextChunk = nextChunk;
  }
  disk;
  file;
  queue = [];
  /** The chunk written and not yet durable; syncId −1 while its fsync is deferred. */
  inFlight = null;
  deferring = false;
  appendedLsn;
  durableLsn;
  nextChunk;
  /** Chunks written and fsyncs issued by this incarnation. */
  chunksWritten = 0;
  /** Reads and decodes the WAL under `dir`; a latent sector error is a refusal too. */
  static recover(disk, dir) {
    let failedRead = null;
    const result = recoverWalFiles(dir, disk.list(), (name) => {
      try {
        return failedRead === null ? readStable(disk, name) : new Uint8Array(0);
      } catch (error) {
        if (error instanceof DiskReadError) {
          failedRead = { file: name, offset: 0, reason: error.message };
          return new Uint8Array(0);
        }
        throw error;
      }
    });
    return failedRead ?? result;
  }
  /** The LSN of the last transaction appended (durable or not). */
  get endLsn() {
    return this.appendedLsn;
  }
  /** The LSN of the last durable transaction. */
  get durableEndLsn() {
    return this.durableLsn;
  }
  /** Transactions appended and not yet durable. */
  get undurable() {
    return this.queue.length + (this.inFlight?.txs.length ?? 0);
  }
  get currentFile() {
    return this.file;
  }
  canAppend() {
    return this.queue.length < QUEUED_TXS_MAX;
  }
  /** Queues a committed transaction; it rides the next chunk. */
  append(tx) {
    if (tx.lsn !== this.appendedLsn + 1) {
      fail(`WAL append of LSN ${tx.lsn} after ${this.appendedLsn}`);
    }
    assert(this.canAppend(), "the WAL queue is full");
    this.queue.push(tx);
    this.appendedLsn = tx.lsn;
    if (this.inFlight === null) {
      this.writeChunk();
    }
  }
  /**
   * Whether the chunk written last waits for `startFsync` (set by `deferFsync`): what a WAL
   * writer that writes to the page cache eagerly and flushes a little later does, which leaves
   * written, unsynced WAL for a crash to tear.
   */
  get fsyncDeferred() {
    return this.inFlight !== null && this.inFlight.syncId < 0;
  }
  /** The next chunk written waits for startFsync() instead of fsyncing at once. */
  deferNextFsync() {
    this.deferring = true;
  }
  startFsync() {
    const flight = this.inFlight;
    assert(flight !== null && flight.syncId < 0, "no chunk waits for its fsync");
    flight.syncId = this.disk.fsync(this.file);
  }
  onSynced(syncId, ok) {
    const flight = this.inFlight;
    if (flight === null || flight.syncId !== syncId || syncId < 0) {
      return { kind: "foreign" };
    }
    this.inFlight = null;
    if (!ok) {
      return { kind: "failed" };
    }
    const last = flight.txs[flight.txs.length - 1];
    this.durableLsn = last.lsn;
    if (this.queue.length > 0) {
      this.writeChunk();
    }
    return { kind: "durable", txs: flight.txs };
  }
  writeChunk() {
    assert(this.inFlight === null, "one chunk in flight at a time");
    const txs = this.queue.splice(0, CHUNK_TXS_MAX);
    this.disk.append(this.file, encodeChunk(txs, this.nextChunk));
    this.nextChunk++;
    this.chunksWritten++;
    const deferred = this.deferring;
    this.deferring = false;
    this.inFlight = { syncId: deferred ? -1 : this.disk.fsync(this.file), txs };
  }
};

// systems/outbox/contract.ts
var WAL_DIR = "wal/";
function dbInspect(view, node) {
  const inspected = view.inspect(node);
  return inspected?.role === "db" ? inspected : void 0;
}

// systems/outbox/db-protocol.ts
var SCAN_LIMIT_MAX = 1e3;
var MANY_MAX = 64;
var CHANGES_MAX = 1e3;
var NAME_BYTES_MAX = 256;
var DB_REQUEST_OPS = {
  "db-begin": "begin",
  "db-get": "get",
  "db-get-many": "get-many",
  "db-scan": "scan",
  "db-put": "put",
  "db-put-many": "put-many",
  "db-commit": "commit",
  "db-rollback": "rollback",
  "db-changes": "changes"
};
function isDbRequest(message) {
  return message.type in DB_REQUEST_OPS;
}
function isDbReply(message) {
  return message.type === "db-reply";
}
function isDbError(body) {
  return "error" in body;
}
function comparePositions(a, b) {
  return a.lsn !== b.lsn ? a.lsn - b.lsn : a.index - b.index;
}
function wireBytes(message) {
  return 16 + JSON.stringify(message).length;
}

// systems/outbox/events.ts
var SERVICES_MAX = 7;
var INCARNATIONS_MAX = 1 << 10;
var EVENTS_PER_INCARNATION_MAX = 1 << 16;
var ORDERS_PER_SERVICE_MAX = (1 << 12) - 1;
var AMOUNT_MAX = (1 << 8) - 1;
var EVENT_ID_SPAN = 2 ** 29;
var AGGREGATE_SPAN = 2 ** 15;
function eventIdOf(serviceIndex, incarnation, counter) {
  assert(serviceIndex >= 1 && serviceIndex <= SERVICES_MAX, "service index out of range");
  assert(incarnation >= 0 && incarnation < INCARNATIONS_MAX, "service incarnation out of range");
  assert(counter >= 0 && counter < EVENTS_PER_INCARNATION_MAX, "event counter out of range");
  return (serviceIndex * INCARNATIONS_MAX + incarnation) * EVENTS_PER_INCARNATION_MAX + counter;
}
function aggregateIdOf(serviceIndex, orderNumber) {
  assert(serviceIndex >= 1 && serviceIndex <= SERVICES_MAX, "service index out of range");
  assert(orderNumber >= 1 && orderNumber <= ORDERS_PER_SERVICE_MAX, "order number out of range");
  return serviceIndex * (ORDERS_PER_SERVICE_MAX + 1) + orderNumber;
}
function encodeEvent(event) {
  assert(Number.isSafeInteger(event.eventId) && event.eventId >= 0, "event id");
  assert(event.eventId < EVENT_ID_SPAN, "event id too wide");
  assert(event.aggregateId >= 0 && event.aggregateId < AGGREGATE_SPAN, "aggregate id too wide");
  assert(event.amount >= 0 && event.amount <= AMOUNT_MAX, "amount too wide");
  const type = event.type === "OrderPlaced" ? 0 : 1;
  return ((event.eventId * AGGREGATE_SPAN + event.aggregateId) * 2 + type) * 256 + event.amount;
}
function decodeEvent(value) {
  if (!Number.isSafeInteger(value) || value < 0) {
    return void 0;
  }
  const amount = value % 256;
  let rest = (value - amount) / 256;
  const type = rest % 2 === 0 ? "OrderPlaced" : "OrderUpdated";
  rest = (rest - rest % 2) / 2;
  const aggregateId = rest % AGGREGATE_SPAN;
  const eventId = (rest - aggregateId) / AGGREGATE_SPAN;
  return { eventId, aggregateId, type, amount };
}
function partitionOf(aggregateId, partitions) {
  assert(partitions.length > 0, "the orders topic needs partitions");
  return partitions[aggregateId % partitions.length];
}
var OUTBOX_TABLE = "outbox";
var OUTBOX_KEY_DIGITS = 10;
function outboxKey(service, sequence) {
  assert(Number.isSafeInteger(sequence) && sequence >= 0, "outbox sequence");
  const digits = String(sequence);
  assert(digits.length <= OUTBOX_KEY_DIGITS, "outbox sequence too long");
  return `${service}:${digits.padStart(OUTBOX_KEY_DIGITS, "0")}`;
}
function encodeOutboxRow(row) {
  return {
    eventId: row.eventId,
    aggregateId: row.aggregateId,
    type: row.type,
    amount: row.amount,
    txId: row.txId
  };
}
function decodeOutboxRow(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return void 0;
  }
  const row = value;
  const ok = Number.isSafeInteger(row["eventId"]) && Number.isSafeInteger(row["aggregateId"]) && (row["type"] === "OrderPlaced" || row["type"] === "OrderUpdated") && Number.isSafeInteger(row["amount"]) && typeof row["txId"] === "string";
  return ok ? row : void 0;
}
function eventOf(row) {
  return { eventId: row.eventId, aggregateId: row.aggregateId, type: row.type, amount: row.amount };
}
function sameEvent(a, b) {
  return a.eventId === b.eventId && a.aggregateId === b.aggregateId && a.type === b.type && a.amount === b.amount;
}
function describeEvent(event) {
  return `event ${event.eventId} (${event.type} of order ${event.aggregateId}, amount ${event.amount})`;
}

// systems/outbox/outbox-contract.ts
function observe(ctx, observation) {
  ctx.observe(observation);
}
function parser(type) {
  return (observation) => observation.type === type ? observation : void 0;
}
var crashPointHit = parser("outbox-crash-point");
var txCommitSent = parser("outbox-tx-commit-sent");
var txCommitted = parser("outbox-tx-committed");
var txAborted = parser("outbox-tx-aborted");
var txInDoubt = parser("outbox-tx-in-doubt");
var effectApplied = parser("outbox-effect-applied");
var duplicateAbsorbed = parser("outbox-duplicate-absorbed");
var published = parser("outbox-published");
var relayResumed = parser("outbox-relay-resumed");
function cdcRelayState(view, node) {
  const inspected = view.inspect(node);
  return inspected?.role === "cdc-relay" ? inspected : void 0;
}
function pollerState(view, node) {
  const inspected = view.inspect(node);
  return inspected?.role === "outbox-poller" ? inspected : void 0;
}
var OUTBOX_GROUPS = {
  db: "db",
  services: "services",
  relay: "relay",
  poller: "poller",
  payments: "payments",
  paymentsDb: "paydb",
  shipping: "shipping",
  shippingDb: "shipdb"
};

// invariants/outbox.ts
function formatTime2(timeUs) {
  return `${(timeUs / 1e6).toFixed(3)} s`;
}
function attempts(observations, durable) {
  const byEvent = /* @__PURE__ */ new Map();
  for (const record2 of observations) {
    const committed = txCommitted(record2.observation);
    const aborted = txAborted(record2.observation);
    const inDoubt = txInDoubt(record2.observation) ?? txCommitSent(record2.observation);
    const tx = committed ?? aborted ?? inDoubt;
    if (tx === void 0) {
      continue;
    }
    const outcome = committed !== void 0 ? "committed" : aborted !== void 0 ? "aborted" : "in-doubt";
    tx.events.forEach((event, indexInTx) => {
      byEvent.set(event.eventId, {
        event,
        txId: tx.txId,
        service: tx.service,
        outcome,
        timeUs: record2.timeUs,
        lsn: committed?.lsn ?? -1,
        indexInTx,
        ...aborted === void 0 ? {} : { reason: aborted.reason }
      });
    });
  }
  if (durable !== void 0) {
    for (const [eventId, attempt] of byEvent) {
      if (attempt.outcome === "in-doubt") {
        const lsn = durable.get(attempt.txId);
        byEvent.set(
          eventId,
          lsn === void 0 ? { ...attempt, outcome: "aborted", reason: "in doubt, and not in the durable log" } : { ...attempt, outcome: "committed", lsn }
        );
      }
    }
  }
  return byEvent;
}
function durableTxs(view) {
  const db = orderDatabase(view);
  return db === void 0 ? void 0 : new Map(db.durableTxs.map((tx) => [tx.txId, tx.lsn]));
}
function orderDatabase(view) {
  const node = view.members(OUTBOX_GROUPS.db)[0];
  const db = node === void 0 ? void 0 : dbInspect(view, node);
  return db === void 0 || db.refused !== null ? void 0 : db;
}
function changePositions(view) {
  const db = orderDatabase(view);
  if (db === void 0) {
    return void 0;
  }
  const positions = /* @__PURE__ */ new Map();
  for (const tx of db.durableTxs) {
    tx.writes.forEach((write, index) => {
      const row = write.table === OUTBOX_TABLE ? decodeOutboxRow(write.value) : void 0;
      if (row !== void 0) {
        positions.set(row.eventId, { lsn: tx.lsn, index });
      }
    });
  }
  return positions;
}
function topicRecords(view) {
  const best = /* @__PURE__ */ new Map();
  for (const node of view.members("brokers")) {
    const broker = brokerState(view, node);
    if (broker === void 0) {
      continue;
    }
    for (const [key2, replica] of broker.partitions) {
      const candidate2 = {
        epoch: replica.leaderEpoch,
        leader: replica.role === "leader",
        hw: replica.highWatermark,
        node
      };
      const known = best.get(key2);
      const better = known === void 0 || candidate2.leader && !known.leader || candidate2.leader === known.leader && (candidate2.leader ? candidate2.epoch > known.epoch : candidate2.hw > known.hw);
      if (better) {
        best.set(key2, candidate2);
      }
    }
  }
  const records = [];
  const keys = [...best.keys()].sort();
  for (const key2 of keys) {
    const chosen = best.get(key2);
    assert(chosen !== void 0, "a chosen replica");
    const replica = brokerState(view, chosen.node)?.partitions.get(key2);
    if (replica === void 0) {
      continue;
    }
    const intact = (view.storedDamage?.(chosen.node) ?? 0) === 0 ? [] : view.members("brokers").filter((node) => node !== chosen.node && (view.storedDamage?.(node) ?? 0) === 0).map((node) => brokerState(view, node)?.partitions.get(key2)).filter((other) => other !== void 0 && other.leaderEpoch === replica.leaderEpoch);
    for (let offset = replica.logStartOffset; offset < replica.highWatermark; offset++) {
      let value = replica.valueAt(offset);
      for (let i = 0; value === void 0 && i < intact.length; i++) {
        value = intact[i]?.valueAt(offset);
      }
      if (value !== void 0) {
        records.push({ key: key2, offset, value, event: decodeEvent(value) });
      }
    }
  }
  return { records, keys };
}
function crashesOf(plan) {
  const names = plan.groups.flatMap((group) => group.nodes);
  return plan.faults.filter((fault) => fault.kind === "crash").map((fault) => ({
    node: names[fault.node] ?? `node ${fault.node}`,
    atUs: fault.atUs
  })).sort((a, b) => a.atUs - b.atUs);
}
function outboxInvariants(plan, options) {
  const crashes = crashesOf(plan);
  const partitions = kafkaConfig(plan.workload).keys;
  const firstStrandedLsn = (observations, committed, offline, positions) => {
    let resumedAtUs = 0;
    let resumedAfter = null;
    for (const record2 of observations) {
      const resumed = relayResumed(record2.observation);
      if (resumed !== void 0) {
        resumedAtUs = record2.timeUs;
        resumedAfter = resumed.after;
      }
    }
    const isAfter = (attempt, after) => {
      const position = positions?.get(attempt.event.eventId);
      return position === void 0 ? attempt.lsn >= after.lsn : comparePositions(position, after) > 0;
    };
    const acknowledged2 = /* @__PURE__ */ new Set();
    for (const record2 of observations) {
      const ack = published(record2.observation);
      if (ack !== void 0 && record2.timeUs >= resumedAtUs) {
        acknowledged2.add(ack.eventId);
      }
    }
    let first;
    for (const attempt of committed) {
      if (attempt.lsn >= 0 && offline(attempt) && !acknowledged2.has(attempt.event.eventId) && (resumedAfter === null || isAfter(attempt, resumedAfter))) {
        first = Math.min(first ?? attempt.lsn, attempt.lsn);
      }
    }
    return first;
  };
  const relayBlockedAt = (view, observations, committed, offline) => {
    if (options.relay === "cdc") {
      return firstStrandedLsn(observations, committed, offline, changePositions(view)) ?? Number.POSITIVE_INFINITY;
    }
    if (options.relay === "polling" && committed.some(offline)) {
      return Number.NEGATIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  };
  const committedAttempts = (view, observations) => [...attempts(observations, durableTxs(view)).values()].filter(
    (attempt) => attempt.outcome === "committed"
  );
  const strandedBy = (view, observations) => {
    const offline = offlineAfterMediaFaults(view, observations);
    return (attempt) => offline.has(partitionOf(attempt.event.aggregateId, partitions));
  };
  const pointCrashes = [];
  const noteCrash = (record2) => {
    const hit = crashPointHit(record2.observation);
    const last = pointCrashes[pointCrashes.length - 1];
    if (hit !== void 0 && (last === void 0 || last.eventIndex < record2.eventIndex)) {
      pointCrashes.push({
        node: hit.node,
        atUs: record2.timeUs,
        point: hit.point,
        eventIndex: record2.eventIndex
      });
    }
  };
  const noteCrashes = (observations) => {
    for (const record2 of observations) {
      noteCrash(record2);
    }
  };
  const relayNode = options.relay === "cdc" ? "relay" : options.relay === "polling" ? "poller" : "";
  const blame = (attempt, afterUs, others = ["db"]) => {
    const suspects = [attempt?.service, relayNode, ...others].filter(
      (name) => name !== void 0 && name !== ""
    );
    const firsts = [];
    for (const node of new Set(suspects)) {
      const scheduled = crashes.find((entry) => entry.atUs >= afterUs && entry.node === node);
      const point = pointCrashes.find((entry) => entry.atUs >= afterUs && entry.node === node);
      const first = point !== void 0 && (scheduled === void 0 || point.atUs <= scheduled.atUs) ? point : scheduled;
      if (first !== void 0) {
        firsts.push(first);
      }
    }
    if (firsts.length === 0) {
      return `no crash of ${[...new Set(suspects)].join(", ")} after it`;
    }
    firsts.sort((x, y) => x.atUs - y.atUs);
    const named = firsts.map(
      (entry) => `${entry.node} at ${formatTime2(entry.atUs)}${entry.point === void 0 ? "" : ` (crash point ${entry.point})`}`
    );
    return `the first crash after it of each suspect: ${named.join(", ")}`;
  };
  const skippedBy = (attempt, observations) => {
    for (const record2 of observations) {
      const resumed = relayResumed(record2.observation);
      if (resumed?.after !== null && resumed !== void 0 && record2.timeUs >= attempt.timeUs && resumed.after.lsn >= attempt.lsn) {
        const index = resumed.after.index >= Number.MAX_SAFE_INTEGER ? "the whole LSN" : `index ${resumed.after.index}`;
        return `the relay restarted at ${formatTime2(record2.timeUs)} resuming after LSN ${resumed.after.lsn} (${index}), past it, and never read it again; ${lastCrashBefore(record2.timeUs, [])}`;
      }
    }
    return void 0;
  };
  const lastCrashBefore = (atUs, others) => {
    const suspects = new Set([relayNode, ...others].filter((name) => name));
    const all = [
      ...crashes.map((entry) => ({ ...entry, point: void 0 })),
      ...pointCrashes
    ].filter((entry) => entry.atUs <= atUs && suspects.has(entry.node)).sort((a, b) => a.atUs - b.atUs);
    const last = all[all.length - 1];
    return last === void 0 ? `no crash of ${[...suspects].join(", ")} before it` : `the last crash before it: ${last.node} at ${formatTime2(last.atUs)}${last.point === void 0 ? "" : `, at its crash point ${last.point}`}`;
  };
  const describeTx = (attempt) => attempt.outcome === "committed" ? `tx ${attempt.txId} of ${attempt.service} (committed at ${formatTime2(attempt.timeUs)}, LSN ${attempt.lsn})` : `tx ${attempt.txId} of ${attempt.service} (${attempt.outcome} at ${formatTime2(attempt.timeUs)}${attempt.reason === void 0 ? "" : `: ${attempt.reason}`})`;
  const consumers = (view) => [OUTBOX_GROUPS.payments, OUTBOX_GROUPS.shipping].flatMap(
    (group) => view.members(group).map((node) => view.name(node))
  );
  const abortedSoFar = /* @__PURE__ */ new Map();
  const effectOnce = {
    name: "outbox-effect-once",
    onObservation(record2) {
      noteCrash(record2);
      const applied = effectApplied(record2.observation);
      if (applied === void 0) {
        return void 0;
      }
      const times = applied.ledger.filter((id) => id === applied.eventId).length;
      if (times > 1) {
        return `${applied.consumer} applied event ${applied.eventId} (order ${applied.aggregateId}) ${times} times: its ledger row holds [${applied.ledger.join(", ")}] after applying the record at ${applied.key}@${applied.offset}; ${lastCrashBefore(record2.timeUs, [applied.consumer])}`;
      }
      return void 0;
    }
  };
  const abortedNeverDelivered = {
    name: "outbox-aborted-never-delivered",
    onObservation(record2) {
      const aborted = txAborted(record2.observation);
      if (aborted !== void 0) {
        aborted.events.forEach((event, indexInTx) => {
          abortedSoFar.set(event.eventId, {
            event,
            txId: aborted.txId,
            service: aborted.service,
            outcome: "aborted",
            timeUs: record2.timeUs,
            lsn: -1,
            indexInTx,
            reason: aborted.reason
          });
        });
        return void 0;
      }
      const applied = effectApplied(record2.observation);
      const attempt = applied === void 0 ? void 0 : abortedSoFar.get(applied.eventId);
      if (applied !== void 0 && attempt !== void 0) {
        return `${describeTx(attempt)}: ${describeEvent(attempt.event)} took effect at ${applied.consumer} (read at ${applied.key}@${applied.offset}), though its transaction never committed; ${lastCrashBefore(record2.timeUs, [attempt.service, "db"])}`;
      }
      return void 0;
    },
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      for (const record2 of topicRecords(view).records) {
        const attempt = record2.event === void 0 ? void 0 : byEvent.get(record2.event.eventId);
        if (attempt?.outcome === "aborted") {
          return `${describeTx(attempt)}: ${describeEvent(attempt.event)} was published to ${record2.key}@${record2.offset}, though its transaction never committed; ${blame(attempt, attempt.timeUs)}`;
        }
      }
      return void 0;
    }
  };
  const committedDelivered = {
    name: "outbox-committed-delivered",
    atEnd(view, observations) {
      noteCrashes(observations);
      const inTopic = /* @__PURE__ */ new Set();
      for (const record2 of topicRecords(view).records) {
        if (record2.event !== void 0) {
          inTopic.add(record2.event.eventId);
        }
      }
      const tookEffect = /* @__PURE__ */ new Map();
      for (const record2 of observations) {
        const applied = effectApplied(record2.observation) ?? duplicateAbsorbed(record2.observation);
        if (applied !== void 0) {
          let set = tookEffect.get(applied.consumer);
          if (set === void 0) {
            set = /* @__PURE__ */ new Set();
            tookEffect.set(applied.consumer, set);
          }
          set.add(applied.eventId);
        }
      }
      const committed = committedAttempts(view, observations).sort((a, b) => a.timeUs - b.timeUs);
      const durable = durableTxs(view);
      for (const attempt of committed) {
        if (durable !== void 0 && !durable.has(attempt.txId)) {
          return `${describeTx(attempt)} was acknowledged as committed, but the order database's durable log does not hold it; ${blame(attempt, attempt.timeUs)}`;
        }
      }
      const offline = strandedBy(view, observations);
      const blockedAt = relayBlockedAt(view, observations, committed, offline);
      const stranded = (attempt) => offline(attempt) || !inTopic.has(attempt.event.eventId) && attempt.lsn >= blockedAt;
      for (const attempt of committed) {
        if (!inTopic.has(attempt.event.eventId) && !stranded(attempt)) {
          return `${describeTx(attempt)}: ${describeEvent(attempt.event)} was never published; ${skippedBy(attempt, observations) ?? blame(attempt, attempt.timeUs)}`;
        }
      }
      for (const consumer of consumers(view)) {
        for (const attempt of committed) {
          if (tookEffect.get(consumer)?.has(attempt.event.eventId) !== true && !stranded(attempt)) {
            return `${describeTx(attempt)}: ${describeEvent(attempt.event)} is in the topic but never took effect at ${consumer}; ${blame(attempt, attempt.timeUs)}`;
          }
        }
      }
      return void 0;
    }
  };
  const payloadMatches = {
    name: "outbox-payload-matches",
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      const { records, keys } = topicRecords(view);
      for (const record2 of records) {
        if (record2.event === void 0) {
          return `the record at ${record2.key}@${record2.offset} (value ${record2.value}) is no event`;
        }
        const attempt = byEvent.get(record2.event.eventId);
        if (attempt === void 0) {
          return `the record at ${record2.key}@${record2.offset} carries ${describeEvent(record2.event)}, which no transaction wrote (an invented event)`;
        }
        if (!sameEvent(attempt.event, record2.event)) {
          return `${describeTx(attempt)} wrote ${describeEvent(attempt.event)}, but ${record2.key}@${record2.offset} carries ${describeEvent(record2.event)}`;
        }
        const expectedKey = keys[record2.event.aggregateId % keys.length];
        if (keys.length > 0 && record2.key !== expectedKey) {
          return `${describeEvent(record2.event)} is in partition ${record2.key}, not its order's ${expectedKey}`;
        }
      }
      return void 0;
    }
  };
  const perAggregateOrder = {
    name: "outbox-per-aggregate-order",
    atEnd(view, observations) {
      noteCrashes(observations);
      const byEvent = attempts(observations, durableTxs(view));
      const commitOrder = (a, b) => comparePositions({ lsn: a.lsn, index: a.indexInTx }, { lsn: b.lsn, index: b.indexInTx });
      const check = (where, events2) => {
        const last = /* @__PURE__ */ new Map();
        const seen = /* @__PURE__ */ new Set();
        for (const eventId of events2) {
          if (seen.has(eventId)) {
            continue;
          }
          seen.add(eventId);
          const attempt = byEvent.get(eventId);
          if (attempt?.outcome !== "committed") {
            continue;
          }
          const aggregate = attempt.event.aggregateId;
          const previous = last.get(aggregate);
          if (previous !== void 0 && commitOrder(previous, attempt) > 0) {
            return `order ${aggregate}: ${where} has ${describeEvent(previous.event)} of ${describeTx(previous)} before ${describeEvent(attempt.event)} of ${describeTx(attempt)}, which committed first; ${blame(attempt, attempt.timeUs)}`;
          }
          last.set(aggregate, attempt);
        }
        return void 0;
      };
      const { records } = topicRecords(view);
      const byKey2 = /* @__PURE__ */ new Map();
      for (const record2 of records) {
        if (record2.event !== void 0) {
          const list3 = byKey2.get(record2.key) ?? [];
          list3.push(record2.event.eventId);
          byKey2.set(record2.key, list3);
        }
      }
      for (const [key2, events2] of byKey2) {
        const verdict = check(`partition ${key2}`, events2);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      const applied = /* @__PURE__ */ new Map();
      for (const record2 of observations) {
        const effect = effectApplied(record2.observation);
        if (effect !== void 0) {
          const list3 = applied.get(effect.consumer) ?? [];
          list3.push(effect.eventId);
          applied.set(effect.consumer, list3);
        }
      }
      for (const [consumer, events2] of applied) {
        const verdict = check(`${consumer}'s effects`, events2);
        if (verdict !== void 0) {
          return verdict;
        }
      }
      return void 0;
    }
  };
  const caughtUp = {
    name: "outbox-relay-caught-up",
    atEnd(view, observations) {
      noteCrashes(observations);
      if (options.relay === "cdc") {
        const node = view.members(OUTBOX_GROUPS.relay)[0];
        const relay = node === void 0 ? void 0 : cdcRelayState(view, node);
        if (relay === void 0) {
          return "the CDC relay is not running at the end of the settle phase";
        }
        const eventLsns = [];
        for (const record2 of observations) {
          const committed = txCommitted(record2.observation);
          if (committed !== void 0 && committed.events.length > 0) {
            eventLsns.push(committed.lsn);
          }
        }
        const lastLsn = eventLsns.reduce((max, lsn) => Math.max(max, lsn), 0);
        const blockedAt = firstStrandedLsn(
          observations,
          committedAttempts(view, observations),
          strandedBy(view, observations),
          changePositions(view)
        );
        const saved2 = relay.saved?.lsn ?? 0;
        if (blockedAt !== void 0 && blockedAt <= lastLsn) {
          const needed = eventLsns.reduce(
            (max, lsn) => lsn < blockedAt ? Math.max(max, lsn) : max,
            0
          );
          return saved2 >= needed ? void 0 : `the CDC relay's saved position (LSN ${saved2}) is behind LSN ${needed} after the settle phase, the last transaction with events before the first event of a partition left offline by a media fault (LSN ${blockedAt})`;
        }
        return saved2 >= lastLsn ? void 0 : `the CDC relay's saved position (LSN ${saved2}) is behind the last committed transaction with events (LSN ${lastLsn}) after the settle phase`;
      }
      if (options.relay === "polling") {
        const node = view.members(OUTBOX_GROUPS.poller)[0];
        const poller = node === void 0 ? void 0 : pollerState(view, node);
        if (poller === void 0) {
          return "the polling publisher is not running at the end of the settle phase";
        }
        if (committedAttempts(view, observations).some(strandedBy(view, observations))) {
          return void 0;
        }
        return poller.lastEmptyScanPhase === "settle" ? void 0 : "the polling publisher never found the outbox empty in the settle phase";
      }
      return void 0;
    }
  };
  return [
    effectOnce,
    abortedNeverDelivered,
    committedDelivered,
    payloadMatches,
    perAggregateOrder,
    caughtUp
  ];
}

// systems/outbox/crash-points.ts
var CRASH_POINTS = [
  "relay-after-read",
  "relay-after-publish",
  "relay-after-save",
  "poller-after-scan",
  "poller-after-publish",
  "poller-after-delete",
  "service-before-commit",
  "service-after-commit",
  "service-after-publish",
  "consumer-after-fetch",
  "consumer-after-effect"
];
var CrashPoints = class {
  constructor(ctx) {
    this.ctx = ctx;
    const named = ctx.workload["crashPoint"];
    this.scripted = CRASH_POINTS.includes(named) ? named : null;
    const hit = ctx.workload["crashPointHit"];
    this.hit = typeof hit === "number" && hit >= 1 ? hit : 1;
  }
  ctx;
  scripted;
  hit;
  hits = 0;
  /** Dies here when this point is due (never in the settle phase). */
  at(point) {
    if (this.ctx.phase() === "settle") {
      return;
    }
    let due = false;
    if (point === this.scripted) {
      this.hits++;
      due = this.hits === this.hit;
    }
    if (!due && !this.ctx.buggify(`outbox:${point}`)) {
      return;
    }
    observe(this.ctx, { type: "outbox-crash-point", node: this.ctx.name, point });
    throw new ProcessExit(`crash point ${point}`);
  }
};

// systems/outbox/database.ts
var TABLES_MAX = 64;
var READS_PER_TX_MAX = 1024;
var WRITES_PER_TX_MAX = 256;
var SortedMap = class {
  entries = /* @__PURE__ */ new Map();
  keys = [];
  /** The position of the first key >= `key`. */
  lowerBound(key2) {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = low + high >>> 1;
      if (this.keys[middle] < key2) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
  set(key2, value) {
    if (!this.entries.has(key2)) {
      this.keys.splice(this.lowerBound(key2), 0, key2);
    }
    this.entries.set(key2, value);
  }
  delete(key2) {
    if (this.entries.delete(key2)) {
      this.keys.splice(this.lowerBound(key2), 1);
    }
  }
};
var Transaction = class {
  constructor(txId) {
    this.txId = txId;
  }
  txId;
  reads = [];
  /** Buffered writes by `table\0key`, in the order last written. */
  writes = /* @__PURE__ */ new Map();
};
function writeKey(table, key2) {
  return `${table}\0${key2}`;
}
function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
var Database = class {
  /** What reads see: the live rows of every visible (durable) transaction. */
  values = /* @__PURE__ */ new Map();
  /** Per key, the LSN of the last committed transaction that wrote it (tombstones kept). */
  versions = /* @__PURE__ */ new Map();
  committedLsn = 0;
  visibleLsn = 0;
  /** The LSN of the last transaction committed (validated), visible or not. */
  get appliedLsn() {
    return this.committedLsn;
  }
  /** The LSN of the last transaction visible to reads. */
  get visibleEndLsn() {
    return this.visibleLsn;
  }
  tableNames() {
    return [...this.values.keys()].filter((name) => this.rows(name).length > 0).sort();
  }
  /** The table's visible rows in key order (for checkers and tests). */
  rows(table) {
    const found = this.values.get(table);
    return found === void 0 ? [] : found.keys.map((key2) => [key2, found.entries.get(key2)]);
  }
  /** The visible value of one key (null: absent), outside any transaction. */
  read(table, key2) {
    return this.values.get(table)?.entries.get(key2) ?? null;
  }
  get(tx, table, key2) {
    const own = tx.writes.get(writeKey(table, key2));
    if (own !== void 0) {
      return { ok: true, value: own.value };
    }
    const recorded = this.record(tx, { table, fromKey: key2, toKey: key2, atLsn: this.visibleLsn });
    return recorded ?? { ok: true, value: this.read(table, key2) };
  }
  /** Up to `limit` visible rows with keys >= fromKey, the transaction's own writes included. */
  scan(tx, table, fromKey, limit) {
    assert(Number.isSafeInteger(limit) && limit >= 1, "a scan returns at least one row");
    const own = [...tx.writes.values()].filter((write) => write.table === table && write.key >= fromKey).sort(byKey);
    const found = this.values.get(table) ?? new SortedMap();
    const keys = found.keys;
    let at2 = found.lowerBound(fromKey);
    let ownAt = 0;
    let lastSeen = null;
    const rows = [];
    while (rows.length < limit && (at2 < keys.length || ownAt < own.length)) {
      const tableKey = keys[at2];
      const write = own[ownAt];
      if (write !== void 0 && (tableKey === void 0 || write.key <= tableKey)) {
        if (write.key === tableKey) {
          at2++;
        }
        ownAt++;
        lastSeen = write.key;
        if (write.value !== null) {
          rows.push([write.key, write.value]);
        }
      } else {
        const key2 = tableKey;
        at2++;
        lastSeen = key2;
        rows.push([key2, found.entries.get(key2)]);
      }
    }
    const toKey = rows.length === limit ? lastSeen : null;
    const recorded = this.record(tx, { table, fromKey, toKey, atLsn: this.visibleLsn });
    return recorded ?? { ok: true, value: rows };
  }
  /** Buffers a write (value null: a delete). */
  put(tx, write) {
    const key2 = writeKey(write.table, write.key);
    if (!tx.writes.has(key2) && tx.writes.size >= WRITES_PER_TX_MAX) {
      return { ok: false, reason: `more than ${WRITES_PER_TX_MAX} writes in one transaction` };
    }
    if (!this.versions.has(write.table) && this.versions.size >= TABLES_MAX) {
      return { ok: false, reason: `more than ${TABLES_MAX} tables` };
    }
    tx.writes.delete(key2);
    tx.writes.set(key2, write);
    return { ok: true, value: null };
  }
  /** Why the transaction cannot commit now, or null when every range it read is unchanged. */
  conflict(tx) {
    for (const range3 of tx.reads) {
      const found = this.versions.get(range3.table);
      if (found === void 0) {
        continue;
      }
      if (range3.toKey === range3.fromKey) {
        const version = found.entries.get(range3.fromKey);
        if (version !== void 0 && version > range3.atLsn) {
          return `${range3.table}/${range3.fromKey} was written at LSN ${version}, after it was read at ${range3.atLsn}`;
        }
        continue;
      }
      for (let at2 = found.lowerBound(range3.fromKey); at2 < found.keys.length; at2++) {
        const key2 = found.keys[at2];
        if (range3.toKey !== null && key2 > range3.toKey) {
          break;
        }
        const version = found.entries.get(key2);
        if (version > range3.atLsn) {
          return `${range3.table}/${key2} was written at LSN ${version}, after a scan over it at ${range3.atLsn}`;
        }
      }
    }
    return null;
  }
  /**
   * Validates and, when nothing it read changed, commits: the transaction takes the next LSN
   * and later commits validate against its writes. It becomes visible with makeVisible.
   */
  commit(tx) {
    const conflict = this.conflict(tx);
    if (conflict !== null) {
      return { conflict };
    }
    const committed = {
      lsn: this.committedLsn + 1,
      txId: tx.txId,
      writes: [...tx.writes.values()]
    };
    this.recordVersions(committed);
    return committed;
  }
  /** The committed transaction at the next visible LSN is durable: reads see it from now on. */
  makeVisible(tx) {
    if (tx.lsn !== this.visibleLsn + 1 || tx.lsn > this.committedLsn) {
      fail(
        `making LSN ${tx.lsn} visible after ${this.visibleLsn} (committed ${this.committedLsn})`
      );
    }
    for (const write of tx.writes) {
      let table = this.values.get(write.table);
      if (table === void 0) {
        table = new SortedMap();
        this.values.set(write.table, table);
      }
      if (write.value === null) {
        table.delete(write.key);
      } else {
        table.set(write.key, write.value);
      }
    }
    this.visibleLsn = tx.lsn;
  }
  /** Replays a durable transaction from the WAL: committed and visible at once. */
  apply(tx) {
    assert(this.visibleLsn === this.committedLsn, "replay only onto a fully visible state");
    this.recordVersions(tx);
    this.makeVisible(tx);
  }
  recordVersions(tx) {
    if (tx.lsn !== this.committedLsn + 1) {
      fail(`committing LSN ${tx.lsn} after ${this.committedLsn}`);
    }
    for (const write of tx.writes) {
      let table = this.versions.get(write.table);
      if (table === void 0) {
        table = new SortedMap();
        this.versions.set(write.table, table);
      }
      table.set(write.key, tx.lsn);
    }
    this.committedLsn = tx.lsn;
  }
  record(tx, range3) {
    if (tx.reads.length >= READS_PER_TX_MAX) {
      return { ok: false, reason: `more than ${READS_PER_TX_MAX} reads in one transaction` };
    }
    tx.reads.push(range3);
    return void 0;
  }
};

// systems/outbox/db-node.ts
var DB_VARIANTS = {
  "ack-before-fsync": "the database answers a commit before the fsync of its WAL record completed"
};
var OPEN_TXS_MAX = 256;
var TX_IDLE_US = 3e6;
var REAP_EVERY_US = 5e5;
var DEFERRED_FSYNC_US_MAX = 5e4;
var WAITERS_PER_COMMIT_MAX = 8;
var ABORTS_REMEMBERED_MAX = 1024;
var HANDLES_PER_BOOT = 2 ** 21;
var BOOT_IDS = 2 ** 31;
var DEPTH_MAX = 16;
var VALUE_NODES_MAX = 4096;
function isDbValue(value, budget, depth2 = 0) {
  if (--budget.nodes < 0 || depth2 > DEPTH_MAX) {
    return false;
  }
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return true;
  }
  if (typeof value === "number") {
    return Number.isFinite(value);
  }
  if (Array.isArray(value)) {
    return value.every((item) => isDbValue(item, budget, depth2 + 1));
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every((item) => isDbValue(item, budget, depth2 + 1));
  }
  return false;
}
function valueFits(write) {
  return isDbValue(write.value, { nodes: VALUE_NODES_MAX }) && writeRecordBytes(write) <= RECORD_BYTES_MAX;
}
function isName(value) {
  return typeof value === "string" && value.length > 0 && value.length <= NAME_BYTES_MAX;
}
function isCount(value, max) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= max;
}
function isPosition(value) {
  if (value === null) {
    return true;
  }
  const position = value;
  return typeof position === "object" && Number.isSafeInteger(position.lsn) && position.lsn >= 0 && Number.isSafeInteger(position.index) && position.index >= 0;
}
var DbNode = class {
  constructor(ctx) {
    this.ctx = ctx;
    const name = variantFor(ctx.variant, "db");
    this.bug = name !== null && name in DB_VARIANTS ? name : null;
  }
  ctx;
  bug;
  db = new Database();
  wal = null;
  refused = null;
  recovered = null;
  bootId = 0;
  fsyncTimerArmed = false;
  handles = 0;
  open = /* @__PURE__ */ new Map();
  openByTxId = /* @__PURE__ */ new Map();
  committing = /* @__PURE__ */ new Map();
  /** Durable commits: txId → LSN. */
  committed = /* @__PURE__ */ new Map();
  durableTxs = [];
  /** Recently aborted txIds → why (oldest first, at most ABORTS_REMEMBERED_MAX). */
  aborted = /* @__PURE__ */ new Map();
  onStart() {
    this.bootId = this.ctx.random.int(BOOT_IDS);
    const result = Wal.recover(this.ctx.disk, WAL_DIR);
    if (isWalRefusal(result)) {
      this.refused = result;
      this.ctx.log("refusing to start: the WAL is damaged", { ...result });
      this.observe({ type: "db-refused", ...result });
      return;
    }
    for (const tx of result.txs) {
      this.db.apply(tx);
      this.committed.set(tx.txId, tx.lsn);
      this.durableTxs.push(tx);
    }
    const endLsn = result.txs.length;
    this.wal = new Wal(this.ctx.disk, result.nextFile, endLsn, result.nextChunk);
    this.recovered = { endLsn, files: result.files, cut: result.cut };
    this.ctx.log("recovered", {
      endLsn,
      files: result.files.length,
      cutBytes: result.cut?.bytes ?? 0,
      next: result.nextFile
    });
    this.observe({
      type: "db-recovered",
      endLsn,
      txs: result.txs.length,
      cutBytes: result.cut?.bytes ?? 0
    });
    this.ctx.setTimer(REAP_EVERY_US, "db-reap");
  }
  onMessage(from2, message) {
    if (!isDbRequest(message)) {
      return;
    }
    const request = message;
    if (typeof request.reqId !== "string" || request.reqId.length > NAME_BYTES_MAX) {
      return;
    }
    const op = DB_REQUEST_OPS[request.type];
    if (this.refused !== null || this.wal === null) {
      this.reply(from2, request.reqId, {
        op,
        error: "unavailable",
        detail: `the WAL is damaged: ${this.refused?.reason ?? "not recovered"}`
      });
      return;
    }
    switch (request.type) {
      case "db-begin":
        this.onBegin(from2, request);
        return;
      case "db-changes":
        this.onChanges(from2, request);
        return;
      case "db-commit":
        this.onCommit(from2, request);
        return;
      case "db-rollback":
        this.onRollback(from2, request);
        return;
      case "db-get":
      case "db-get-many":
      case "db-scan":
      case "db-put":
      case "db-put-many":
        this.onTxRequest(from2, request);
        return;
    }
  }
  error(op, error, detail) {
    return { op, error, detail };
  }
  onBegin(from2, request) {
    if (!isName(request.txId)) {
      this.reply(
        from2,
        request.reqId,
        this.error("begin", "bad-request", "txId must be a short string")
      );
      return;
    }
    const known = this.openByTxId.get(request.txId);
    if (known !== void 0) {
      this.reply(from2, request.reqId, { op: "begin", handle: known });
      return;
    }
    if (this.committed.has(request.txId) || this.committing.has(request.txId)) {
      this.reply(
        from2,
        request.reqId,
        this.error("begin", "bad-request", `transaction ${request.txId} already committed`)
      );
      return;
    }
    if (this.open.size >= OPEN_TXS_MAX) {
      this.reply(
        from2,
        request.reqId,
        this.error("begin", "busy", `${OPEN_TXS_MAX} transactions open`)
      );
      return;
    }
    assert(this.handles < HANDLES_PER_BOOT - 1, "out of transaction handles for this incarnation");
    this.handles++;
    const handle = this.bootId * HANDLES_PER_BOOT + this.handles;
    this.open.set(handle, {
      tx: new Transaction(request.txId),
      handle,
      lastSeq: 0,
      lastReply: null,
      lastActiveUs: this.ctx.monotonic()
    });
    this.openByTxId.set(request.txId, handle);
    this.aborted.delete(request.txId);
    this.reply(from2, request.reqId, { op: "begin", handle });
  }
  /**
   * The open transaction a request addresses, when it is the next in its seq order; otherwise
   * answers it (a duplicate of the last from the cache, a refusal) and returns undefined.
   */
  sequenced(from2, request) {
    const op = DB_REQUEST_OPS[request.type];
    const open = typeof request.handle === "number" ? this.open.get(request.handle) : void 0;
    if (open === void 0 || open.tx.txId !== request.txId) {
      this.reply(
        from2,
        request.reqId,
        this.error(op, "no-such-tx", `no open transaction ${request.txId} with that handle`)
      );
      return void 0;
    }
    if (typeof request.seq !== "number" || !Number.isSafeInteger(request.seq)) {
      this.reply(from2, request.reqId, this.error(op, "bad-request", "seq must be an integer"));
      return void 0;
    }
    open.lastActiveUs = this.ctx.monotonic();
    if (request.seq === open.lastSeq && open.lastReply !== null && open.lastReply.op === op) {
      this.reply(from2, request.reqId, open.lastReply);
      return void 0;
    }
    if (request.seq <= open.lastSeq) {
      this.reply(
        from2,
        request.reqId,
        this.error(op, "stale", `seq ${request.seq} after ${open.lastSeq}`)
      );
      return void 0;
    }
    if (request.seq > open.lastSeq + 1) {
      this.reply(
        from2,
        request.reqId,
        this.error(op, "out-of-order", `seq ${request.seq} after ${open.lastSeq}`)
      );
      return void 0;
    }
    return open;
  }
  answer(from2, reqId, open, seq, body) {
    open.lastSeq = seq;
    open.lastReply = body;
    this.reply(from2, reqId, body);
  }
  onTxRequest(from2, request) {
    const open = this.sequenced(from2, request);
    if (open === void 0) {
      return;
    }
    const op = DB_REQUEST_OPS[request.type];
    if (request.type === "db-get-many" || request.type === "db-put-many") {
      this.answer(from2, request.reqId, open, request.seq, this.many(open.tx, request));
      return;
    }
    if (!isName(request.table) || request.type !== "db-scan" && !isName(request.key)) {
      this.answer(
        from2,
        request.reqId,
        open,
        request.seq,
        this.error(op, "bad-request", "table and key must be short non-empty strings")
      );
      return;
    }
    let body;
    if (request.type === "db-get") {
      const read = this.db.get(open.tx, request.table, request.key);
      body = read.ok ? { op: "get", value: read.value } : this.error("get", "bad-request", read.reason);
    } else if (request.type === "db-scan") {
      if (!isCount(request.limit, SCAN_LIMIT_MAX) || request.fromKey !== void 0 && typeof request.fromKey !== "string") {
        this.answer(
          from2,
          request.reqId,
          open,
          request.seq,
          this.error("scan", "bad-request", `limit must be 1\u2026${SCAN_LIMIT_MAX}`)
        );
        return;
      }
      const read = this.db.scan(open.tx, request.table, request.fromKey ?? "", request.limit);
      body = read.ok ? { op: "scan", rows: read.value } : this.error("scan", "bad-request", read.reason);
    } else {
      const write = { table: request.table, key: request.key, value: request.value };
      if (!valueFits(write)) {
        this.answer(
          from2,
          request.reqId,
          open,
          request.seq,
          this.error("put", "bad-request", "the value is not plain data, or too large")
        );
        return;
      }
      const put = this.db.put(open.tx, write);
      body = put.ok ? { op: "put" } : this.error("put", "bad-request", put.reason);
    }
    this.answer(from2, request.reqId, open, request.seq, body);
  }
  /**
   * A get-many reads its keys as that many gets would; a put-many checks every write before
   * buffering any, so a refusal buffers nothing (but a transaction at its write limit may have
   * buffered some: the client rolls back on any refusal).
   */
  many(tx, request) {
    if (request.type === "db-get-many") {
      const keys = request.keys;
      if (!isName(request.table) || !Array.isArray(keys) || !isCount(keys.length, MANY_MAX) || !keys.every((key2) => isName(key2))) {
        return this.error(
          "get-many",
          "bad-request",
          `1\u2026${MANY_MAX} short non-empty keys of a table`
        );
      }
      const values = [];
      for (const key2 of keys) {
        const read = this.db.get(tx, request.table, key2);
        if (!read.ok) {
          return this.error("get-many", "bad-request", read.reason);
        }
        values.push(read.value);
      }
      return { op: "get-many", values };
    }
    const writes = request.writes;
    if (!Array.isArray(writes) || !isCount(writes.length, MANY_MAX) || !writes.every(
      (write) => typeof write === "object" && write !== null && isName(write.table) && isName(write.key) && valueFits(write)
    )) {
      return this.error("put-many", "bad-request", `1\u2026${MANY_MAX} plain, small writes`);
    }
    for (const write of writes) {
      const put = this.db.put(tx, { table: write.table, key: write.key, value: write.value });
      if (!put.ok) {
        return this.error("put-many", "bad-request", put.reason);
      }
    }
    return { op: "put-many" };
  }
  onCommit(from2, request) {
    const wal = this.wal;
    const open = typeof request.handle === "number" ? this.open.get(request.handle) : void 0;
    if (open === void 0 || open.tx.txId !== request.txId) {
      this.commitAnswer(from2, request.reqId, request.txId);
      return;
    }
    const sequenced = this.sequenced(from2, request);
    if (sequenced === void 0) {
      return;
    }
    if (!wal.canAppend()) {
      this.reply(from2, request.reqId, this.error("commit", "busy", "the WAL queue is full"));
      return;
    }
    this.close(open);
    const result = this.db.commit(open.tx);
    if ("conflict" in result) {
      this.remember(open.tx.txId, "conflict");
      this.ctx.log("commit aborted", { txId: open.tx.txId, conflict: result.conflict });
      this.observe({ type: "db-tx-aborted", txId: open.tx.txId, reason: "conflict" });
      this.reply(from2, request.reqId, { op: "commit", outcome: "aborted", reason: "conflict" });
      return;
    }
    const committing = {
      lsn: result.lsn,
      waiters: [{ from: from2, reqId: request.reqId }],
      acked: false
    };
    this.committing.set(result.txId, committing);
    this.writingWal(() => wal.append(result));
    if (this.bug === "ack-before-fsync") {
      this.ackWaiters(result.txId, committing, false);
    }
  }
  /** A commit asked of a transaction that is not open: answer from what the node knows. */
  commitAnswer(from2, reqId, txId) {
    if (typeof txId !== "string") {
      this.reply(from2, reqId, this.error("commit", "bad-request", "txId must be a string"));
      return;
    }
    const committing = this.committing.get(txId);
    if (committing !== void 0) {
      if (!committing.waiters.some((waiter) => waiter.reqId === reqId)) {
        if (committing.waiters.length >= WAITERS_PER_COMMIT_MAX) {
          committing.waiters.shift();
        }
        committing.waiters.push({ from: from2, reqId });
      }
      if (this.bug === "ack-before-fsync") {
        this.ackWaiters(txId, committing, false);
      }
      return;
    }
    const lsn = this.committed.get(txId);
    if (lsn !== void 0) {
      this.reply(from2, reqId, { op: "commit", outcome: "committed", lsn });
      this.observe({ type: "db-commit-acked", txId, lsn, durable: true });
      return;
    }
    this.reply(from2, reqId, {
      op: "commit",
      outcome: "aborted",
      reason: this.aborted.get(txId) ?? "unknown"
    });
  }
  onRollback(from2, request) {
    const open = typeof request.handle === "number" ? this.open.get(request.handle) : void 0;
    if (open === void 0 || open.tx.txId !== request.txId) {
      const done = typeof request.txId === "string" && (this.committed.has(request.txId) || this.committing.has(request.txId));
      this.reply(
        from2,
        request.reqId,
        done ? this.error("rollback", "bad-request", `transaction ${request.txId} committed`) : { op: "rollback" }
      );
      return;
    }
    if (this.sequenced(from2, request) === void 0) {
      return;
    }
    this.close(open);
    this.remember(open.tx.txId, "unknown");
    this.observe({ type: "db-tx-aborted", txId: open.tx.txId, reason: "rolled-back" });
    this.reply(from2, request.reqId, { op: "rollback" });
  }
  onChanges(from2, request) {
    if (!isPosition(request.after) || !isCount(request.maxChanges, CHANGES_MAX)) {
      this.reply(
        from2,
        request.reqId,
        this.error(
          "changes",
          "bad-request",
          `after must be a position or null, maxChanges 1\u2026${CHANGES_MAX}`
        )
      );
      return;
    }
    const changes = [];
    const after = request.after ?? { lsn: 0, index: -1 };
    for (let at2 = Math.max(0, after.lsn - 1); at2 < this.durableTxs.length; at2++) {
      const tx = this.durableTxs[at2];
      for (let index = tx.lsn === after.lsn ? after.index + 1 : 0; index < tx.writes.length; index++) {
        const write = tx.writes[index];
        if (write === void 0 || changes.length >= request.maxChanges) {
          break;
        }
        changes.push({
          lsn: tx.lsn,
          index,
          txId: tx.txId,
          table: write.table,
          key: write.key,
          value: write.value
        });
      }
      if (changes.length >= request.maxChanges) {
        break;
      }
    }
    const endLsn = this.wal.durableEndLsn;
    this.reply(from2, request.reqId, { op: "changes", changes, endLsn });
  }
  onSynced(syncId, ok) {
    const wal = this.wal;
    if (wal === null) {
      return;
    }
    const undurable = wal.undurable;
    let outcome = { kind: "foreign" };
    this.writingWal(() => {
      outcome = wal.onSynced(syncId, ok);
    });
    if (outcome.kind === "foreign") {
      return;
    }
    if (outcome.kind === "failed") {
      this.observe({ type: "db-fsync-failed", undurable });
      throw new ProcessExit("WAL fsync failed");
    }
    for (const tx of outcome.txs) {
      assert(tx.lsn === this.durableTxs.length + 1, "durable transactions arrive in LSN order");
      this.db.makeVisible(tx);
      this.durableTxs.push(tx);
      this.committed.set(tx.txId, tx.lsn);
      const committing = this.committing.get(tx.txId);
      this.committing.delete(tx.txId);
      if (committing !== void 0) {
        this.ackWaiters(tx.txId, committing, true);
      }
    }
  }
  ackWaiters(txId, committing, durable) {
    for (const waiter of committing.waiters) {
      this.reply(waiter.from, waiter.reqId, {
        op: "commit",
        outcome: "committed",
        lsn: committing.lsn
      });
    }
    if (committing.waiters.length > 0 && (!committing.acked || durable)) {
      this.observe({ type: "db-commit-acked", txId, lsn: committing.lsn, durable });
    }
    committing.acked ||= committing.waiters.length > 0;
    committing.waiters.length = 0;
  }
  /**
   * Runs a WAL step that may write a chunk. Buggify point: the chunk is written to the page
   * cache now and fsynced a little later (a WAL writer's delay, as PostgreSQL's
   * wal_writer_delay), so that there is written, unsynced WAL for a crash to tear.
   */
  writingWal(step) {
    const wal = this.wal;
    if (this.ctx.buggify("db.defer-wal-fsync")) {
      wal.deferNextFsync();
    }
    step();
    if (wal.fsyncDeferred && !this.fsyncTimerArmed) {
      this.fsyncTimerArmed = true;
      this.ctx.setTimer(1 + this.ctx.random.int(DEFERRED_FSYNC_US_MAX), "db-fsync");
    }
  }
  onTimer(tag) {
    if (tag === "db-fsync") {
      this.fsyncTimerArmed = false;
      if (this.wal?.fsyncDeferred === true) {
        this.wal.startFsync();
      }
      return;
    }
    if (tag !== "db-reap") {
      return;
    }
    const now = this.ctx.monotonic();
    for (const open of [...this.open.values()]) {
      if (now - open.lastActiveUs >= TX_IDLE_US) {
        this.close(open);
        this.remember(open.tx.txId, "unknown");
        this.observe({ type: "db-tx-aborted", txId: open.tx.txId, reason: "idle" });
      }
    }
    this.ctx.setTimer(REAP_EVERY_US, "db-reap");
  }
  close(open) {
    this.open.delete(open.handle);
    if (this.openByTxId.get(open.tx.txId) === open.handle) {
      this.openByTxId.delete(open.tx.txId);
    }
  }
  remember(txId, reason) {
    this.aborted.delete(txId);
    this.aborted.set(txId, reason);
    if (this.aborted.size > ABORTS_REMEMBERED_MAX) {
      const oldest = this.aborted.keys().next().value;
      this.aborted.delete(oldest);
    }
  }
  reply(to, reqId, body) {
    const reply = { type: "db-reply", reqId, ...body };
    this.ctx.send(to, reply, wireBytes(reply));
  }
  observe(observation) {
    this.ctx.observe(observation);
  }
  inspect() {
    const db = this.db;
    return {
      role: "db",
      refused: this.refused,
      recovered: this.recovered,
      durableTxs: this.durableTxs,
      durableEndLsn: this.wal?.durableEndLsn ?? 0,
      appliedEndLsn: db.appliedLsn,
      openTxs: this.open.size,
      committingTxs: this.committing.size,
      tableNames: () => db.tableNames(),
      rows: (table) => db.rows(table)
    };
  }
};
function dbNodeProgram(ctx) {
  return new DbNode(ctx);
}

// systems/outbox/db-client.ts
var ATTEMPT_TIMEOUT_US_DEFAULT = 1e5;
var ATTEMPTS_MAX_DEFAULT = 10;
var BUSY_BACKOFF_US = 2e4;
var IN_FLIGHT_MAX = 64;
var DbClient = class {
  constructor(ctx, options) {
    this.ctx = ctx;
    const members = ctx.members(options.dbGroup);
    assert(members.length === 1, `group ${options.dbGroup} must hold exactly one database node`);
    this.db = members[0];
    this.clientName = options.clientName ?? `${ctx.name}.${ctx.random.uint32().toString(36)}`;
    this.attemptTimeoutUs = options.attemptTimeoutUs ?? ATTEMPT_TIMEOUT_US_DEFAULT;
    this.attemptsMax = options.attemptsMax ?? ATTEMPTS_MAX_DEFAULT;
    this.timerTag = options.timerTag ?? "db-client";
    assert(this.attemptTimeoutUs >= 1 && this.attemptsMax >= 1, "bad db client limits");
  }
  ctx;
  clientName;
  db;
  attemptTimeoutUs;
  attemptsMax;
  timerTag;
  txCounter = 0;
  reqCounter = 0;
  inFlight = /* @__PURE__ */ new Map();
  byTimer = /* @__PURE__ */ new Map();
  /** A transaction id never used before by this client (nor by an earlier incarnation). */
  nextTxId() {
    this.txCounter++;
    return `${this.clientName}:${this.txCounter}`;
  }
  /** Requests in flight; at most IN_FLIGHT_MAX. */
  get pending() {
    return this.inFlight.size;
  }
  begin(txId = this.nextTxId()) {
    return this.send({ type: "db-begin", reqId: this.nextReqId(), txId }, null);
  }
  get(tx, table, key2) {
    return this.send({ type: "db-get", ...this.txFields(tx), table, key: key2 }, tx);
  }
  /** Reads several keys of one table in one request; the reply's values are in key order. */
  getMany(tx, table, keys) {
    assert(keys.length >= 1 && keys.length <= MANY_MAX, "get-many takes 1 to 64 keys");
    return this.send({ type: "db-get-many", ...this.txFields(tx), table, keys: [...keys] }, tx);
  }
  /** Buffers several writes in one request (value null deletes the key). */
  putMany(tx, writes) {
    assert(writes.length >= 1 && writes.length <= MANY_MAX, "put-many takes 1 to 64 writes");
    return this.send({ type: "db-put-many", ...this.txFields(tx), writes: [...writes] }, tx);
  }
  scan(tx, table, limit, fromKey) {
    const request = fromKey === void 0 ? { type: "db-scan", ...this.txFields(tx), table, limit } : { type: "db-scan", ...this.txFields(tx), table, limit, fromKey };
    return this.send(request, tx);
  }
  /** Buffers a write in the transaction; value null deletes the key. */
  put(tx, table, key2, value) {
    return this.send({ type: "db-put", ...this.txFields(tx), table, key: key2, value }, tx);
  }
  /** Commits; called again after a timeout, asks for the same commit. */
  commit(tx) {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    if (tx.broken) {
      fail(`transaction ${tx.txId} is broken (a request timed out): roll it back`);
    }
    if (tx.commitSeq === null) {
      tx.seq++;
      tx.commitSeq = tx.seq;
    }
    const request = {
      type: "db-commit",
      reqId: this.nextReqId(),
      txId: tx.txId,
      handle: tx.handle,
      seq: tx.commitSeq
    };
    return this.send(request, tx);
  }
  /** Best effort: a lost rollback is reaped by the node as an idle transaction. */
  rollback(tx) {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    tx.seq++;
    const request = {
      type: "db-rollback",
      reqId: this.nextReqId(),
      txId: tx.txId,
      handle: tx.handle,
      seq: tx.seq
    };
    return this.send(request, tx);
  }
  /** The durable committed changes strictly after `after` (null: from the start). */
  changes(after, maxChanges) {
    return this.send({ type: "db-changes", reqId: this.nextReqId(), after, maxChanges }, null);
  }
  /** The completion a message carries, or null when it is not a reply to a request in flight. */
  onMessage(from2, message) {
    if (from2 !== this.db || !isDbReply(message)) {
      return null;
    }
    const flight = this.inFlight.get(message.reqId);
    if (flight === void 0 || DB_REQUEST_OPS[flight.request.type] !== message.op) {
      return null;
    }
    const { type: _type, reqId: _reqId, ...body } = message;
    const reply = body;
    if (isDbError(reply) && reply.error === "busy" && flight.attempts < this.attemptsMax) {
      this.ctx.cancelTimer(flight.timerId);
      this.byTimer.delete(flight.timerId);
      flight.timerId = this.ctx.setTimer(BUSY_BACKOFF_US, this.timerTag);
      this.byTimer.set(flight.timerId, message.reqId);
      return null;
    }
    return this.complete(message.reqId, flight, reply);
  }
  /** The completion a timer brings (a request that gave up), or null. Resends otherwise. */
  onTimer(tag, timerId) {
    if (tag !== this.timerTag) {
      return null;
    }
    const reqId = this.byTimer.get(timerId);
    if (reqId === void 0) {
      return null;
    }
    this.byTimer.delete(timerId);
    const flight = this.inFlight.get(reqId);
    if (flight === void 0) {
      return null;
    }
    if (flight.attempts >= this.attemptsMax) {
      const op = DB_REQUEST_OPS[flight.request.type];
      return this.complete(reqId, flight, {
        op,
        error: "timeout",
        detail: `no answer to ${op} after ${flight.attempts} attempts`
      });
    }
    this.attempt(reqId, flight);
    return null;
  }
  /** Does this timer tag belong to this client? */
  ownsTimer(tag) {
    return tag === this.timerTag;
  }
  complete(reqId, flight, reply) {
    this.ctx.cancelTimer(flight.timerId);
    this.byTimer.delete(flight.timerId);
    this.inFlight.delete(reqId);
    let tx = flight.tx;
    if (tx !== null) {
      tx.busy = false;
      if ("error" in reply && reply.error === "timeout" && flight.request.type !== "db-commit") {
        tx.broken = true;
      }
    }
    if (flight.request.type === "db-begin" && !("error" in reply) && reply.op === "begin") {
      tx = {
        txId: flight.request.txId,
        handle: reply.handle,
        seq: 0,
        commitSeq: null,
        broken: false,
        busy: false
      };
    }
    return { reqId, request: flight.request, reply, tx, attempts: flight.attempts };
  }
  txFields(tx) {
    if (tx.busy) {
      fail(`transaction ${tx.txId} already has a request in flight`);
    }
    if (tx.broken) {
      fail(`transaction ${tx.txId} is broken (a request timed out): roll it back`);
    }
    if (tx.commitSeq !== null) {
      fail(`transaction ${tx.txId} is committing`);
    }
    tx.seq++;
    return { reqId: this.nextReqId(), txId: tx.txId, handle: tx.handle, seq: tx.seq };
  }
  nextReqId() {
    this.reqCounter++;
    return `${this.clientName}/${this.reqCounter}`;
  }
  send(request, tx) {
    if (this.inFlight.size >= IN_FLIGHT_MAX) {
      fail(`db client ${this.clientName} has ${IN_FLIGHT_MAX} requests in flight already`);
    }
    if (tx !== null) {
      tx.busy = true;
    }
    const flight = { request, tx, attempts: 0, timerId: -1 };
    this.inFlight.set(request.reqId, flight);
    this.attempt(request.reqId, flight);
    return request.reqId;
  }
  attempt(reqId, flight) {
    flight.attempts++;
    this.ctx.send(this.db, flight.request, wireBytes(flight.request));
    flight.timerId = this.ctx.setTimer(this.attemptTimeoutUs, this.timerTag);
    this.byTimer.set(flight.timerId, reqId);
  }
};

// systems/outbox/db-calls.ts
function errorOf(completion) {
  const reply = completion.reply;
  return "error" in reply ? reply.error : void 0;
}
function okReply(completion, op) {
  const reply = completion.reply;
  if ("error" in reply || isDbError(reply) || reply.op !== op) {
    return void 0;
  }
  return reply;
}
var DbCalls = class {
  client;
  waiting = /* @__PURE__ */ new Map();
  constructor(ctx, options) {
    this.client = new DbClient(ctx, options);
  }
  /** Runs `then` when the request `reqId` completes. */
  on(reqId, then) {
    this.waiting.set(reqId, then);
  }
  onMessage(from2, message) {
    if (message.type !== "db-reply") {
      return false;
    }
    const completion = this.client.onMessage(from2, message);
    if (completion !== null) {
      this.deliver(completion);
    }
    return true;
  }
  onTimer(tag, timerId) {
    if (!this.client.ownsTimer(tag)) {
      return false;
    }
    const completion = this.client.onTimer(tag, timerId);
    if (completion !== null) {
      this.deliver(completion);
    }
    return true;
  }
  deliver(completion) {
    const then = this.waiting.get(completion.reqId);
    this.waiting.delete(completion.reqId);
    then?.(completion);
  }
};

// systems/outbox/publisher.ts
var ATTEMPT_TIMEOUT_US = 3e5;
var RETRY_US4 = 2e4;
var METADATA_EVERY_US3 = 2e5;
var PUBLISH_QUEUE_MAX = 256;
var PRODUCER_RESETS_MAX = 256;
var INCARNATIONS_MAX2 = 4096;
var NONCE_SPAN = 2 ** 20;
var NODES_SPAN = 64;
var EventPublisher = class {
  constructor(ctx, incarnation, unordered) {
    this.ctx = ctx;
    this.incarnation = incarnation;
    this.unordered = unordered;
    assert(incarnation >= 0 && incarnation < INCARNATIONS_MAX2, "publisher incarnation range");
    assert(ctx.id >= 0 && ctx.id < NODES_SPAN, "publisher node id range");
    this.nonce = ctx.random.int(NONCE_SPAN);
    this.partitions = kafkaConfig(ctx.workload).keys;
    this.leaders = new LeaderCache(ctx);
    this.producerId = this.idFor(0);
  }
  ctx;
  incarnation;
  unordered;
  partitions;
  leaders;
  queue = [];
  inFlight = /* @__PURE__ */ new Map();
  inFlightSends = 0;
  sequences = /* @__PURE__ */ new Map();
  resets = 0;
  producerId;
  nonce;
  batches = 0;
  metadataTimer = -1;
  /**
   * A producer id no earlier process used: the node, its durable incarnation, random bits
   * (so that a node whose state file was lost, and counts incarnations from 0 again, does not
   * come back as an earlier producer whose sequences the brokers still hold: its first sends
   * would be taken for retries and answered without being appended), and the resets.
   */
  idFor(resets) {
    const process2 = (this.ctx.id * INCARNATIONS_MAX2 + this.incarnation) * NONCE_SPAN + this.nonce;
    return process2 * PRODUCER_RESETS_MAX + resets + 1;
  }
  start() {
    this.leaders.refresh();
    this.metadataTimer = this.ctx.setTimer(METADATA_EVERY_US3, "pub:metadata");
  }
  /** Nothing queued or in flight. */
  idle() {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }
  pending() {
    return this.queue.length + this.inFlightSends;
  }
  publish(event, done) {
    assert(this.pending() < PUBLISH_QUEUE_MAX, "publish queue full");
    this.queue.push({ event, key: partitionOf(event.aggregateId, this.partitions), done });
    this.pump();
  }
  /**
   * Starts what may start. Ordered: for each partition with nothing in flight, one batch of its
   * oldest queued sends (one request in flight per partition keeps their order; a batch keeps
   * its records, and so its sequences, on every retry). Unordered: every send on its own.
   */
  pump() {
    const busy = /* @__PURE__ */ new Set();
    if (!this.unordered) {
      for (const batch of this.inFlight.values()) {
        busy.add(batch.key);
      }
    }
    const batches = /* @__PURE__ */ new Map();
    const waiting = [];
    for (const send of this.queue) {
      if (this.unordered) {
        this.startBatch([send], -1, 0);
        continue;
      }
      const batch = batches.get(send.key);
      if (busy.has(send.key) || batch !== void 0 && batch.length >= PRODUCE_RECORDS_MAX) {
        waiting.push(send);
      } else if (batch === void 0) {
        batches.set(send.key, [send]);
      } else {
        batch.push(send);
      }
    }
    for (const [key2, sends] of batches) {
      this.startBatch(sends, this.producerId, this.sequences.get(key2) ?? 0);
    }
    this.queue.length = 0;
    this.queue.push(...waiting);
  }
  startBatch(sends, producerId, sequence) {
    const first = sends[0];
    this.batches++;
    const batch = {
      id: `${this.ctx.name}-i${this.incarnation}-b${this.batches}`,
      key: first.key,
      sends,
      sequence,
      producerId,
      timer: -1,
      attempts: 0
    };
    this.inFlight.set(batch.id, batch);
    this.inFlightSends += sends.length;
    this.attempt(batch);
  }
  attempt(batch) {
    this.ctx.cancelTimer(batch.timer);
    batch.attempts++;
    const request = {
      type: "produce",
      id: batch.id,
      key: batch.key,
      values: batch.sends.map((send) => encodeEvent(send.event)),
      producerId: batch.producerId,
      sequence: batch.sequence,
      acks: "all"
    };
    this.ctx.send(
      this.leaders.leaderOf(batch.key),
      request,
      32 + 16 * batch.sends.length
    );
    batch.timer = this.ctx.setTimer(ATTEMPT_TIMEOUT_US, "pub:attempt");
  }
  retrySoon(batch) {
    this.ctx.cancelTimer(batch.timer);
    batch.timer = this.ctx.setTimer(RETRY_US4, "pub:attempt");
  }
  /** True when the message was a Kafka reply (this component's). */
  onMessage(_from, message) {
    const reply = message;
    if (reply.type === "metadata-ok") {
      this.leaders.learn(reply.leaders);
      return true;
    }
    if (reply.type !== "produce-ok" && reply.type !== "produce-error") {
      return false;
    }
    const batch = this.inFlight.get(reply.id);
    if (batch === void 0) {
      return true;
    }
    if (reply.type === "produce-ok") {
      this.ctx.cancelTimer(batch.timer);
      this.inFlight.delete(batch.id);
      this.inFlightSends -= batch.sends.length;
      if (!this.unordered && batch.producerId === this.producerId) {
        this.sequences.set(batch.key, batch.sequence + batch.sends.length);
      }
      for (const [at2, send] of batch.sends.entries()) {
        send.done(batch.key, reply.offset + at2);
      }
      this.pump();
      return true;
    }
    if (reply.error === "not-leader") {
      this.leaders.leaders.delete(batch.key);
      this.leaders.refresh();
      this.retrySoon(batch);
    } else if (reply.error === "out-of-order-sequence" && !this.unordered) {
      this.resets++;
      assert(this.resets < PRODUCER_RESETS_MAX, "producer reset too often");
      this.producerId = this.idFor(this.resets);
      this.sequences.clear();
      batch.producerId = this.producerId;
      batch.sequence = 0;
      this.retrySoon(batch);
    } else {
      this.retrySoon(batch);
    }
    return true;
  }
  /** True when the timer was this component's. */
  onTimer(tag, timerId) {
    if (tag === "pub:metadata") {
      if (timerId === this.metadataTimer) {
        this.leaders.refresh();
        this.metadataTimer = this.ctx.setTimer(METADATA_EVERY_US3, "pub:metadata");
      }
      return true;
    }
    if (tag !== "pub:attempt") {
      return false;
    }
    for (const batch of this.inFlight.values()) {
      if (batch.timer === timerId) {
        if (batch.attempts % 4 === 0) {
          this.leaders.leaders.delete(batch.key);
          this.leaders.refresh();
        }
        this.attempt(batch);
        break;
      }
    }
    return true;
  }
};

// systems/outbox/cdc-relay.ts
var CHANGES_PER_READ = 32;
var WINDOW_EVENTS_MAX = 64;
var IDLE_POLL_US = 2e4;
var RETRY_US5 = 5e4;
var WHOLE_LSN_INDEX = Number.MAX_SAFE_INTEGER;
function parseState(body) {
  const record2 = body;
  if (record2 === null || typeof record2 !== "object" || !Number.isSafeInteger(record2.incarnation)) {
    return void 0;
  }
  const position = record2.position;
  if (position === null) {
    return { position: null, incarnation: record2.incarnation };
  }
  if (typeof position !== "object" || position === void 0 || !Number.isSafeInteger(position.lsn) || !(position.index === null || Number.isSafeInteger(position.index))) {
    return void 0;
  }
  return { position, incarnation: record2.incarnation };
}
function resumeAfter(position) {
  if (position === null) {
    return null;
  }
  return { lsn: position.lsn, index: position.index ?? WHOLE_LSN_INDEX };
}
var CdcRelay = class {
  constructor(ctx) {
    this.ctx = ctx;
    const variant = ctx.variant;
    this.bug = variant === "relay-saves-position-before-publish" || variant === "relay-position-per-lsn" || variant === "publish-unordered" ? variant : null;
    this.db = new DbCalls(ctx, { dbGroup: "db", timerTag: "relay:db" });
    this.cell = new DurableCell(ctx, "relay.state", parseState);
    this.crash = new CrashPoints(ctx);
  }
  ctx;
  bug;
  db;
  cell;
  crash;
  incarnation = -1;
  saved = null;
  /** The position of the last change read and handled (published or skipped). */
  handled = null;
  endLsn = 0;
  publisher = null;
  /** Events read and not yet covered by a saved position, in log order. */
  window = [];
  /** The position to save next (everything up to it is published). */
  target = null;
  reading = false;
  pollTimer = -1;
  onStart() {
    const state = this.cell.load();
    const incarnation = (state?.incarnation ?? -1) + 1;
    const position = state?.position ?? null;
    this.cell.save({ position, incarnation }, () => {
      this.incarnation = incarnation;
      this.saved = position;
      this.handled = resumeAfter(position);
      observe(this.ctx, {
        type: "outbox-relay-resumed",
        relay: this.ctx.name,
        incarnation,
        after: this.handled
      });
      this.publisher = new EventPublisher(this.ctx, incarnation, this.bug === "publish-unordered");
      this.publisher.start();
      this.read();
    });
  }
  later(delayUs) {
    this.ctx.cancelTimer(this.pollTimer);
    this.pollTimer = this.ctx.setTimer(delayUs, "relay:read");
  }
  /** Reads the next changes, while the window of unsaved events has room. */
  read() {
    if (this.reading || this.window.length >= WINDOW_EVENTS_MAX) {
      return;
    }
    this.reading = true;
    this.db.on(this.db.client.changes(this.handled, CHANGES_PER_READ), (completion) => {
      this.reading = false;
      const reply = okReply(completion, "changes");
      if (reply === void 0) {
        this.later(RETRY_US5);
        return;
      }
      this.endLsn = Math.max(this.endLsn, reply.endLsn);
      if (this.take(reply.changes)) {
        this.read();
      } else {
        this.later(IDLE_POLL_US);
      }
    });
  }
  /** Queues a batch's outbox events for publishing; false when it brought nothing new. */
  take(changes) {
    const fresh = [];
    let last = this.handled;
    for (const change of changes) {
      const position = { lsn: change.lsn, index: change.index };
      if (last !== null && comparePositions(position, last) <= 0) {
        this.ctx.log("the change feed went backwards: ignored", { lsn: change.lsn });
        return false;
      }
      last = position;
      const row = change.table === OUTBOX_TABLE ? decodeOutboxRow(change.value) : void 0;
      if (row !== void 0) {
        fresh.push({ event: eventOf(row), position, eventsAtLsn: 0, acked: false });
      }
    }
    if (last === null || this.handled !== null && comparePositions(last, this.handled) === 0) {
      return false;
    }
    for (const entry of fresh) {
      entry.eventsAtLsn = fresh.filter((other) => other.position.lsn === entry.position.lsn).length;
    }
    if (fresh.length > 0) {
      this.crash.at("relay-after-read");
    }
    this.handled = last;
    this.window.push(...fresh);
    if (this.bug === "relay-saves-position-before-publish") {
      this.target = last;
    }
    for (const entry of fresh) {
      this.publishOne(entry);
    }
    this.advance();
    return true;
  }
  publishOne(entry) {
    this.publisher.publish(entry.event, (key2, offset) => {
      entry.acked = true;
      observe(this.ctx, {
        type: "outbox-published",
        publisher: this.ctx.name,
        eventId: entry.event.eventId,
        key: key2,
        offset,
        position: entry.position,
        eventsAtLsn: entry.eventsAtLsn
      });
      this.crash.at("relay-after-publish");
      this.advance();
    });
  }
  /**
   * Moves the position to save past every change whose events are all acknowledged: up to
   * the last acknowledged event before the first unacknowledged one, or to the last change
   * read when none is left (past trailing changes of other tables too, so the saved position
   * reaches the log end).
   */
  advance() {
    if (this.bug !== "relay-saves-position-before-publish") {
      const pending = this.window.findIndex((entry) => !entry.acked);
      if (pending < 0) {
        this.target = this.handled;
      } else if (pending > 0) {
        this.target = this.window[pending - 1].position;
      }
    }
    this.saveTarget();
    if (this.window.length < WINDOW_EVENTS_MAX) {
      this.read();
    }
  }
  /** One save at a time; when it is durable, the next (the newest target) follows. */
  saveTarget() {
    const target = this.target;
    const current = resumeAfter(this.saved);
    if (target === null || this.cell.busy()) {
      return;
    }
    if (current !== null && comparePositions(target, current) <= 0) {
      this.prune(current);
      return;
    }
    const stored = this.bug === "relay-position-per-lsn" ? { lsn: target.lsn, index: null } : { lsn: target.lsn, index: target.index };
    this.cell.save({ position: stored, incarnation: this.incarnation }, () => {
      this.saved = stored;
      this.crash.at("relay-after-save");
      const wasFull = this.window.length >= WINDOW_EVENTS_MAX;
      this.prune(resumeAfter(stored));
      this.saveTarget();
      if (wasFull && this.window.length < WINDOW_EVENTS_MAX) {
        this.read();
      }
    });
  }
  /** Forgets the events a saved position covers (acknowledged ones only: the bug's are not). */
  prune(saved2) {
    while (this.window.length > 0) {
      const first = this.window[0];
      if (comparePositions(first.position, saved2) > 0 || !first.acked) {
        break;
      }
      this.window.shift();
    }
  }
  onMessage(from2, message) {
    if (this.db.onMessage(from2, message)) {
      return;
    }
    this.publisher?.onMessage(from2, message);
  }
  onTimer(tag, timerId) {
    if (this.db.onTimer(tag, timerId) || this.publisher?.onTimer(tag, timerId) === true) {
      return;
    }
    if (tag === "relay:read" && timerId === this.pollTimer) {
      this.read();
    }
  }
  onSynced(syncId, ok) {
    this.cell.onSynced(syncId, ok);
  }
  inspect() {
    return { role: "cdc-relay", saved: resumeAfter(this.saved), endLsn: this.endLsn };
  }
};

// systems/outbox/consumer.ts
var PROCESSED_TABLE = "processed";
var OFFSETS_TABLE = "offsets";
var CONSUME_TIMEOUT_US = 2e5;
var IDLE_POLL_US2 = 2e4;
var RETRY_US6 = 5e4;
var METADATA_EVERY_US4 = 2e5;
var COMMIT_ROUNDS_MAX = 30;
var LEDGER_EVENTS_MAX = 64;
var RECORDS_PER_BATCH_MAX2 = 64;
var EVENTS_PER_TX_MAX = 16;
function parseLedger(value) {
  if (value === null) {
    return { events: [], total: 0 };
  }
  const record2 = value;
  if (typeof value !== "object" || !Array.isArray(record2.events) || !record2.events.every((id) => Number.isSafeInteger(id)) || !Number.isSafeInteger(record2.total)) {
    return void 0;
  }
  return { events: [...record2.events], total: record2.total };
}
function parseProcessed(value) {
  if (value === null) {
    return null;
  }
  const record2 = value;
  return typeof value === "object" && typeof record2.key === "string" && Number.isSafeInteger(record2.offset) ? { key: record2.key, offset: record2.offset } : void 0;
}
var OutboxConsumer = class {
  constructor(ctx, options) {
    this.ctx = ctx;
    this.partitions = kafkaConfig(ctx.workload).keys;
    this.leaders = new LeaderCache(ctx);
    this.db = new DbCalls(ctx, { dbGroup: options.dbGroup, timerTag: "consumer:db" });
    this.idempotent = ctx.variant !== "consumer-not-idempotent";
    this.effectTable = options.effectTable;
    this.crash = new CrashPoints(ctx);
  }
  ctx;
  partitions;
  leaders;
  db;
  idempotent;
  /** The ledger table its effect writes (charges, shipments). */
  effectTable;
  positions = /* @__PURE__ */ new Map();
  crash;
  fetchCount = 0;
  /** Per partition: the consume request in flight. */
  fetches = /* @__PURE__ */ new Map();
  stepTimers = /* @__PURE__ */ new Map();
  /** Retries of effect transactions, by timer. */
  retries = /* @__PURE__ */ new Map();
  loadTimer = -1;
  onStart() {
    this.leaders.refresh();
    this.ctx.setTimer(METADATA_EVERY_US4, "consumer:metadata");
    this.loadPositions();
  }
  /** The partition's next step (a fetch) after `delayUs`. */
  later(key2, delayUs) {
    this.ctx.cancelTimer(this.stepTimers.get(key2) ?? -1);
    this.stepTimers.set(key2, this.ctx.setTimer(delayUs, "consumer:step"));
  }
  /** Reads the saved positions (a read-only transaction), then starts every partition. */
  loadPositions() {
    const retry = () => {
      this.loadTimer = this.ctx.setTimer(RETRY_US6, "consumer:load");
    };
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        retry();
        return;
      }
      this.db.on(this.db.client.scan(tx, OFFSETS_TABLE, this.partitions.length + 1), (scan) => {
        const reply = okReply(scan, "scan");
        this.db.on(this.db.client.rollback(tx), () => {
        });
        if (reply === void 0) {
          retry();
          return;
        }
        for (const key2 of this.partitions) {
          this.positions.set(key2, 0);
        }
        for (const [key2, value] of reply.rows) {
          if (this.positions.has(key2) && Number.isSafeInteger(value)) {
            this.positions.set(key2, value);
          }
        }
        for (const key2 of this.partitions) {
          this.later(key2, 1);
        }
      });
    });
  }
  // ---- fetching: one lane per partition, in parallel --------------------------------------
  fetch(key2) {
    if (this.fetches.has(key2)) {
      return;
    }
    this.fetchCount++;
    const id = `${this.db.client.clientName}-f${this.fetchCount}`;
    this.fetches.set(key2, { id, timer: this.ctx.setTimer(CONSUME_TIMEOUT_US, "consumer:fetch") });
    this.ctx.send(
      this.leaders.leaderOf(key2),
      { type: "consume", id, key: key2, offset: this.positions.get(key2) ?? 0 },
      32
    );
  }
  fetched(key2, pairs) {
    const position = this.positions.get(key2) ?? 0;
    const records = pairs.filter(([offset]) => offset >= position).slice(0, RECORDS_PER_BATCH_MAX2);
    if (records.length === 0) {
      this.later(key2, IDLE_POLL_US2);
      return;
    }
    this.crash.at("consumer-after-fetch");
    this.processAll(key2, records, 0);
  }
  /**
   * The partition's records in order (its order is its aggregates' order), up to
   * EVENTS_PER_TX_MAX events per transaction: one round of reads and one of writes for the
   * whole run (a transaction per event drained a backlog at ~20 events/s per partition).
   */
  processAll(key2, records, at2) {
    if (at2 >= records.length) {
      this.savePosition(key2);
      return;
    }
    const batch = [];
    let next = at2;
    for (; next < records.length && batch.length < EVENTS_PER_TX_MAX; next++) {
      const [offset, value] = records[next];
      const event = decodeEvent(value);
      if (event === void 0) {
        this.ctx.log("a record that is no event: skipped", { key: key2, offset });
        if (batch.length === 0) {
          this.positions.set(key2, offset + 1);
          continue;
        }
        break;
      }
      batch.push({ offset, event });
    }
    if (batch.length === 0) {
      this.processAll(key2, records, next);
      return;
    }
    const last = batch[batch.length - 1];
    this.apply(key2, batch, () => {
      this.positions.set(key2, last.offset + 1);
      this.processAll(key2, records, next);
    });
  }
  // ---- the effect, exactly once ------------------------------------------------------------
  /**
   * One transaction for a run of one partition's events: the dedup check of all of them, their
   * aggregates' ledgers, the effects and the processed marks, commit; retried until it is done.
   * An event already in `processed/` (or twice in the run: a re-publish lands next to the
   * first) is absorbed, not applied.
   */
  apply(key2, batch, done) {
    const again = () => {
      const timer = this.ctx.setTimer(RETRY_US6, "consumer:retry");
      this.retries.set(timer, () => this.apply(key2, batch, done));
    };
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        again();
        return;
      }
      const fail3 = () => {
        this.rollbackQuietly(tx);
        again();
      };
      const decide = (processed) => {
        const firstSeen = /* @__PURE__ */ new Map();
        const outcomes = batch.map((delivery, index) => {
          const before2 = processed[index] ?? firstSeen.get(delivery.event.eventId) ?? null;
          if (before2 !== null) {
            return { delivery, absorbedAfter: before2 };
          }
          if (this.idempotent) {
            firstSeen.set(delivery.event.eventId, { key: key2, offset: delivery.offset });
          }
          return { delivery, absorbedAfter: null };
        });
        this.applyEffects(tx, key2, outcomes, fail3, done);
      };
      if (!this.idempotent) {
        decide(batch.map(() => null));
        return;
      }
      const ids2 = batch.map((delivery) => String(delivery.event.eventId));
      this.db.on(this.db.client.getMany(tx, PROCESSED_TABLE, ids2), (read) => {
        const values = okReply(read, "get-many")?.values;
        const processed = values?.map(parseProcessed);
        if (processed === void 0 || processed.some((entry) => entry === void 0)) {
          fail3();
          return;
        }
        decide(processed);
      });
    });
  }
  /** Reads the ledgers the fresh events touch, writes the effects and marks, commits. */
  applyEffects(tx, key2, outcomes, fail3, done) {
    const fresh = outcomes.filter((outcome) => outcome.absorbedAfter === null);
    const finish = (snapshots) => {
      let applied = 0;
      for (const { delivery, absorbedAfter } of outcomes) {
        const { event, offset } = delivery;
        if (absorbedAfter === null) {
          observe(this.ctx, {
            type: "outbox-effect-applied",
            consumer: this.ctx.name,
            eventId: event.eventId,
            aggregateId: event.aggregateId,
            key: key2,
            offset,
            ledger: snapshots[applied++]
          });
        } else {
          observe(this.ctx, {
            type: "outbox-duplicate-absorbed",
            consumer: this.ctx.name,
            eventId: event.eventId,
            key: key2,
            offset,
            firstKey: absorbedAfter.key,
            firstOffset: absorbedAfter.offset
          });
        }
      }
      assert(applied === fresh.length, "every fresh event applied");
      if (fresh.length > 0) {
        this.crash.at("consumer-after-effect");
      }
      done();
    };
    if (fresh.length === 0) {
      this.rollbackQuietly(tx);
      finish([]);
      return;
    }
    const aggregates = [
      ...new Set(fresh.map(({ delivery }) => String(delivery.event.aggregateId)))
    ];
    this.db.on(this.db.client.getMany(tx, this.effectTable, aggregates), (read) => {
      const values = okReply(read, "get-many")?.values;
      const ledgers = /* @__PURE__ */ new Map();
      for (const [index, aggregate] of aggregates.entries()) {
        const value = values?.[index];
        const ledger = value === void 0 ? void 0 : parseLedger(value);
        if (ledger === void 0) {
          fail3();
          return;
        }
        ledgers.set(aggregate, ledger);
      }
      const snapshots = [];
      const writes = [];
      for (const { delivery } of fresh) {
        const ledger = ledgers.get(String(delivery.event.aggregateId));
        if (ledger.events.length < LEDGER_EVENTS_MAX) {
          ledger.events.push(delivery.event.eventId);
        }
        ledger.total += delivery.event.amount;
        snapshots.push([...ledger.events]);
        writes.push({
          table: PROCESSED_TABLE,
          key: String(delivery.event.eventId),
          value: { key: key2, offset: delivery.offset }
        });
      }
      for (const [aggregate, ledger] of ledgers) {
        writes.push({
          table: this.effectTable,
          key: aggregate,
          value: { events: ledger.events, total: ledger.total }
        });
      }
      this.db.on(this.db.client.putMany(tx, writes), (put) => {
        if (okReply(put, "put-many") === void 0) {
          fail3();
          return;
        }
        this.commit(tx, 1, fail3, () => finish(snapshots));
      });
    });
  }
  /**
   * Commits; after a timeout asks again. Aborted or in doubt: `fail` runs the transaction
   * again, whose dedup check settles whether the first one committed.
   */
  commit(tx, round, fail3, committed) {
    this.db.on(this.db.client.commit(tx), (completion) => {
      const reply = okReply(completion, "commit");
      if (reply?.outcome === "committed") {
        committed();
      } else if (errorOf(completion) === "timeout" && round < COMMIT_ROUNDS_MAX) {
        this.commit(tx, round + 1, fail3, committed);
      } else {
        fail3();
      }
    });
  }
  rollbackQuietly(tx) {
    if (!tx.busy && tx.commitSeq === null) {
      this.db.on(this.db.client.rollback(tx), () => {
      });
    }
  }
  /** Saves the partition's position (best effort: a lost save only redelivers). */
  savePosition(key2) {
    const position = this.positions.get(key2) ?? 0;
    assert(Number.isSafeInteger(position), "position");
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        this.later(key2, 1);
        return;
      }
      this.db.on(this.db.client.put(tx, OFFSETS_TABLE, key2, position), (put) => {
        if (okReply(put, "put") === void 0) {
          this.rollbackQuietly(tx);
          this.later(key2, 1);
          return;
        }
        this.db.on(this.db.client.commit(tx), () => this.later(key2, 1));
      });
    });
  }
  onMessage(from2, message) {
    if (this.db.onMessage(from2, message)) {
      return;
    }
    const reply = message;
    if (reply.type === "metadata-ok") {
      this.leaders.learn(reply.leaders);
      return;
    }
    if (reply.type !== "consume-ok" && reply.type !== "consume-error") {
      return;
    }
    const fetch = this.fetches.get(reply.key);
    if (fetch === void 0 || reply.id !== fetch.id) {
      return;
    }
    this.ctx.cancelTimer(fetch.timer);
    this.fetches.delete(reply.key);
    if (reply.type === "consume-ok") {
      this.fetched(reply.key, reply.pairs);
      return;
    }
    if (reply.error === "not-leader") {
      this.leaders.leaders.delete(reply.key);
      this.leaders.refresh();
    } else {
      this.ctx.observe({ type: "outbox-offset-reset", consumer: this.ctx.name, key: reply.key });
      this.positions.set(reply.key, 0);
    }
    this.later(reply.key, RETRY_US6);
  }
  onTimer(tag, timerId) {
    if (this.db.onTimer(tag, timerId)) {
      return;
    }
    if (tag === "consumer:step") {
      for (const [key2, timer] of this.stepTimers) {
        if (timer === timerId) {
          this.stepTimers.delete(key2);
          this.fetch(key2);
          break;
        }
      }
    } else if (tag === "consumer:fetch") {
      for (const [key2, fetch] of this.fetches) {
        if (fetch.timer === timerId) {
          this.leaders.leaders.delete(key2);
          this.leaders.refresh();
          this.fetches.delete(key2);
          this.later(key2, 1);
          break;
        }
      }
    } else if (tag === "consumer:retry") {
      const retry = this.retries.get(timerId);
      this.retries.delete(timerId);
      retry?.();
    } else if (tag === "consumer:load" && timerId === this.loadTimer) {
      this.loadPositions();
    } else if (tag === "consumer:metadata") {
      this.leaders.refresh();
      this.ctx.setTimer(METADATA_EVERY_US4, "consumer:metadata");
    }
  }
  inspect() {
    return { role: "outbox-consumer", positions: this.positions };
  }
};

// systems/outbox/order-service.ts
var ORDERS_TABLE = "orders";
var COUNTERS_TABLE = "counters";
var COMMIT_ROUNDS_MAX2 = 30;
var OUTSIDE_ATTEMPTS_MAX = 5;
var EVENTS_PER_TX_MAX2 = 3;
var RETRY_US7 = 5e4;
function serviceWorkload(workload) {
  const number = (name, fallback) => typeof workload[name] === "number" ? workload[name] : fallback;
  const mode = workload["serviceMode"];
  return {
    mode: mode === "dual-write" || mode === "outside-transaction" ? mode : "outbox",
    thinkUs: number("serviceThinkUs", 4e4),
    rollbackProbability: number("rollbackProbability", 0.1),
    updateProbability: number("updateProbability", 0.3),
    placeAndUpdateProbability: number("placeAndUpdateProbability", 0.2),
    produceIntoSettleUs: number("produceIntoSettleUs", 1e6),
    publishFirst: workload["dualWriteOrder"] === "publish-first"
  };
}
function parseCounters(value) {
  if (value === null) {
    return { sequence: 0, orders: 0 };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return void 0;
  }
  const record2 = value;
  const sequence = record2["sequence"];
  const orders = record2["orders"];
  return Number.isSafeInteger(sequence) && Number.isSafeInteger(orders) ? { sequence, orders } : void 0;
}
var OrderService = class {
  constructor(ctx) {
    this.ctx = ctx;
    const knobs = serviceWorkload(ctx.workload);
    this.knobs = ctx.variant === "outbox-outside-transaction" && knobs.mode === "outbox" ? { ...knobs, mode: "outside-transaction" } : knobs;
    this.cutoff = new SettleCutoff(ctx, this.knobs.produceIntoSettleUs);
    this.index = ctx.members(ctx.group).indexOf(ctx.id) + 1;
    assert(this.index >= 1 && this.index <= SERVICES_MAX, `at most ${SERVICES_MAX} services`);
    this.db = new DbCalls(ctx, { dbGroup: "db", timerTag: "svc:db" });
    this.crash = new CrashPoints(ctx);
    this.cell = new DurableCell(ctx, "service.state", (body) => {
      const incarnation = body?.incarnation;
      return Number.isSafeInteger(incarnation) ? { incarnation } : void 0;
    });
  }
  ctx;
  knobs;
  index;
  db;
  cell;
  crash;
  incarnation = -1;
  eventCounter = 0;
  publisher = null;
  current = null;
  cutoff;
  nextTimer = -1;
  /** outside-transaction: the next attempt at the second transaction, when its timer fires. */
  outsideRetry = null;
  onStart() {
    const saved2 = this.cell.load();
    const incarnation = (saved2?.incarnation ?? -1) + 1;
    if (incarnation >= INCARNATIONS_MAX) {
      this.ctx.log("out of incarnations: no more orders");
      return;
    }
    this.cell.save({ incarnation }, () => {
      this.incarnation = incarnation;
      if (this.knobs.mode === "dual-write") {
        this.publisher = new EventPublisher(this.ctx, incarnation, false);
        this.publisher.start();
      }
      this.scheduleNext();
    });
  }
  scheduleNext(delayUs = 1 + this.ctx.random.int(this.knobs.thinkUs)) {
    this.ctx.cancelTimer(this.nextTimer);
    this.nextTimer = this.ctx.setTimer(delayUs, "svc:next");
  }
  // ---- one business transaction -----------------------------------------------------------
  startTransaction() {
    if (this.cutoff.stopped() || this.eventCounter + EVENTS_PER_TX_MAX2 > EVENTS_PER_INCARNATION_MAX) {
      return;
    }
    this.db.on(this.db.client.begin(), (completion) => {
      if (completion.tx === null) {
        this.scheduleNext(RETRY_US7);
        return;
      }
      const tx = completion.tx;
      this.db.on(this.db.client.get(tx, COUNTERS_TABLE, this.ctx.name), (read) => {
        const value = okReply(read, "get")?.value;
        const counters = value === void 0 ? void 0 : parseCounters(value);
        if (counters === void 0) {
          this.abandon(tx, [], `reading the counters: ${errorOf(read) ?? "bad row"}`);
          return;
        }
        this.current = {
          tx,
          counters,
          steps: this.drawSteps(counters),
          at: 0,
          events: [],
          amounts: /* @__PURE__ */ new Map(),
          commitRounds: 0
        };
        this.nextStep();
      });
    });
  }
  drawSteps(counters) {
    const steps = [];
    const count2 = 1 + this.ctx.random.int(EVENTS_PER_TX_MAX2);
    let orders = counters.orders;
    while (steps.length < count2) {
      const update = counters.orders > 0 && this.ctx.random.chance(this.knobs.updateProbability);
      if (update) {
        const orderNumber = 1 + this.ctx.random.int(orders + 1);
        steps.push({ kind: "update", orderNumber: Math.min(orderNumber, ORDERS_PER_SERVICE_MAX) });
      } else if (orders < ORDERS_PER_SERVICE_MAX) {
        orders++;
        steps.push({ kind: "place", orderNumber: orders });
        if (steps.length < count2 && this.ctx.random.chance(this.knobs.placeAndUpdateProbability)) {
          steps.push({ kind: "update", orderNumber: orders });
        }
      } else {
        break;
      }
    }
    return steps;
  }
  /** Reads what the next step needs (an update reads its order), then writes it. */
  nextStep() {
    const business = this.current;
    assert(business !== null, "no transaction");
    const step = business.steps[business.at];
    if (step === void 0) {
      this.writeOutboxAndCounters();
      return;
    }
    const aggregateId = aggregateIdOf(this.index, step.orderNumber);
    if (step.kind === "place" || business.amounts.has(aggregateId)) {
      this.writeStep(step, aggregateId);
      return;
    }
    this.db.on(this.db.client.get(business.tx, ORDERS_TABLE, String(aggregateId)), (read) => {
      const reply = okReply(read, "get");
      if (reply === void 0) {
        this.abandon(
          business.tx,
          business.events,
          `reading order ${aggregateId}: ${errorOf(read)}`
        );
        return;
      }
      const amount = reply.value?.amount;
      if (!Number.isSafeInteger(amount)) {
        this.abandon(business.tx, business.events, `order ${aggregateId} does not exist`);
        return;
      }
      business.amounts.set(aggregateId, amount);
      this.writeStep(step, aggregateId);
    });
  }
  writeStep(step, aggregateId) {
    const business = this.current;
    const amount = 1 + this.ctx.random.int(AMOUNT_MAX);
    const event = {
      eventId: eventIdOf(this.index, this.incarnation, this.eventCounter++),
      aggregateId,
      type: step.kind === "place" ? "OrderPlaced" : "OrderUpdated",
      amount
    };
    business.events.push(event);
    business.amounts.set(aggregateId, amount);
    const row = { amount, lastEvent: event.eventId };
    this.db.on(this.db.client.put(business.tx, ORDERS_TABLE, String(aggregateId), row), (put) => {
      if (okReply(put, "put") === void 0) {
        this.abandon(business.tx, business.events, `writing order ${aggregateId}: ${errorOf(put)}`);
        return;
      }
      business.at++;
      this.nextStep();
    });
  }
  writeOutboxAndCounters() {
    const business = this.current;
    const writes = [];
    let sequence = business.counters.sequence;
    if (this.knobs.mode === "outbox") {
      for (const event of business.events) {
        sequence++;
        const row = encodeOutboxRow({ ...event, txId: business.tx.txId });
        writes.push([OUTBOX_TABLE, outboxKey(this.ctx.name, sequence), row]);
      }
    } else if (this.knobs.mode === "outside-transaction") {
      sequence += business.events.length;
    }
    const orders = business.steps.reduce(
      (most, step) => Math.max(most, step.kind === "place" ? step.orderNumber : 0),
      business.counters.orders
    );
    writes.push([COUNTERS_TABLE, this.ctx.name, { sequence, orders }]);
    this.writeAll(business.tx, writes, business.events, () => {
      const decide = () => {
        if (this.ctx.random.chance(this.knobs.rollbackProbability)) {
          this.abandon(business.tx, business.events, "the credit check failed");
          return;
        }
        this.commit(business);
      };
      if (this.knobs.mode === "dual-write" && this.knobs.publishFirst) {
        this.publishDirectly(business.events, 0, decide);
        return;
      }
      decide();
    });
  }
  /** Puts the writes one after another (the node takes one request of a tx at a time). */
  writeAll(tx, writes, events2, then, at2 = 0) {
    const write = writes[at2];
    if (write === void 0) {
      then();
      return;
    }
    const [table, key2, value] = write;
    this.db.on(this.db.client.put(tx, table, key2, value), (put) => {
      if (okReply(put, "put") === void 0) {
        this.abandon(tx, events2, `writing ${table}/${key2}: ${errorOf(put)}`);
        return;
      }
      this.writeAll(tx, writes, events2, then, at2 + 1);
    });
  }
  commit(business) {
    business.commitRounds++;
    if (business.commitRounds === 1) {
      this.crash.at("service-before-commit");
      observe(this.ctx, {
        type: "outbox-tx-commit-sent",
        service: this.ctx.name,
        txId: business.tx.txId,
        events: business.events
      });
    }
    this.db.on(this.db.client.commit(business.tx), (completion) => {
      const reply = okReply(completion, "commit");
      if (reply !== void 0 && reply.outcome === "committed") {
        this.committed(business, reply.lsn);
      } else if (reply !== void 0) {
        this.aborted(
          business.tx.txId,
          business.events,
          `the database aborted it (${reply.reason})`
        );
        this.finish();
      } else if (errorOf(completion) === "timeout" && business.commitRounds < COMMIT_ROUNDS_MAX2) {
        this.commit(business);
      } else {
        observe(this.ctx, {
          type: "outbox-tx-in-doubt",
          service: this.ctx.name,
          txId: business.tx.txId,
          events: business.events
        });
        this.finish();
      }
    });
  }
  committed(business, lsn) {
    const observation = {
      type: "outbox-tx-committed",
      service: this.ctx.name,
      txId: business.tx.txId,
      lsn,
      events: business.events,
      mode: this.knobs.mode
    };
    observe(this.ctx, observation);
    this.crash.at("service-after-commit");
    if (this.knobs.mode === "dual-write" && !this.knobs.publishFirst) {
      this.publishDirectly(business.events, 0, () => this.finish());
    } else if (this.knobs.mode === "outside-transaction" && business.events.length > 0) {
      this.writeOutboxSeparately(business, 1);
    } else {
      this.finish();
    }
  }
  /** dual-write: the events go to Kafka now, one after another, after the commit. */
  publishDirectly(events2, at2, then) {
    const event = events2[at2];
    const publisher = this.publisher;
    if (event === void 0 || publisher === null) {
      then();
      return;
    }
    publisher.publish(event, (key2, offset) => {
      this.ctx.observe({
        type: "outbox-published",
        publisher: this.ctx.name,
        eventId: event.eventId,
        key: key2,
        offset
      });
      this.crash.at("service-after-publish");
      this.publishDirectly(events2, at2 + 1, then);
    });
  }
  /** outside-transaction: the outbox rows, in a transaction of their own. */
  writeOutboxSeparately(business, attempt) {
    if (attempt > OUTSIDE_ATTEMPTS_MAX) {
      this.ctx.log("gave up writing the outbox rows", { txId: business.tx.txId });
      this.finish();
      return;
    }
    const retry = () => this.ctx.setTimer(RETRY_US7, `svc:outside:${attempt + 1}`);
    this.outsideRetry = () => this.writeOutboxSeparately(business, attempt + 1);
    this.db.on(this.db.client.begin(), (completion) => {
      const tx = completion.tx;
      if (tx === null) {
        retry();
        return;
      }
      let sequence = business.counters.sequence;
      const writes = business.events.map((event) => {
        sequence++;
        const row = encodeOutboxRow({ ...event, txId: business.tx.txId });
        return [OUTBOX_TABLE, outboxKey(this.ctx.name, sequence), row];
      });
      const write = (at2) => {
        const next = writes[at2];
        if (next === void 0) {
          this.db.on(this.db.client.commit(tx), (commit) => {
            if (okReply(commit, "commit")?.outcome === "committed") {
              this.finish();
            } else {
              retry();
            }
          });
          return;
        }
        this.db.on(this.db.client.put(tx, ...next), (put) => {
          if (okReply(put, "put") === void 0) {
            this.rollbackQuietly(tx);
            retry();
            return;
          }
          write(at2 + 1);
        });
      };
      write(0);
    });
  }
  aborted(txId, events2, reason) {
    this.ctx.observe({ type: "outbox-tx-aborted", service: this.ctx.name, txId, reason, events: events2 });
  }
  /** Gives the transaction up before its commit: it can never commit, so it is aborted. */
  abandon(tx, events2, reason) {
    this.aborted(tx.txId, events2, reason);
    this.rollbackQuietly(tx);
    this.finish();
  }
  rollbackQuietly(tx) {
    if (!tx.busy) {
      this.db.on(this.db.client.rollback(tx), () => {
      });
    }
  }
  finish() {
    this.current = null;
    this.outsideRetry = null;
    this.scheduleNext();
  }
  // ---- the node program -------------------------------------------------------------------
  onMessage(from2, message) {
    if (this.db.onMessage(from2, message)) {
      return;
    }
    this.publisher?.onMessage(from2, message);
  }
  onTimer(tag, timerId) {
    if (this.db.onTimer(tag, timerId) || this.publisher?.onTimer(tag, timerId) === true) {
      return;
    }
    if (tag === "svc:next" && timerId === this.nextTimer) {
      if (this.current === null) {
        this.startTransaction();
      }
    } else if (tag.startsWith("svc:outside:")) {
      this.outsideRetry?.();
    }
  }
  onSynced(syncId, ok) {
    this.cell.onSynced(syncId, ok);
  }
  inspect() {
    return { role: "order-service", incarnation: this.incarnation };
  }
};

// systems/outbox/poller.ts
var ROWS_PER_SCAN = 32;
var IDLE_POLL_US3 = 2e4;
var RETRY_US8 = 5e4;
var PollingPublisher = class {
  constructor(ctx) {
    this.ctx = ctx;
    this.deleteFirst = ctx.variant === "relay-saves-position-before-publish";
    this.unordered = ctx.variant === "publish-unordered";
    this.crash = new CrashPoints(ctx);
    this.db = new DbCalls(ctx, { dbGroup: "db", timerTag: "poller:db" });
    this.cell = new DurableCell(ctx, "poller.state", (body) => {
      const incarnation = body?.incarnation;
      return Number.isSafeInteger(incarnation) ? { incarnation } : void 0;
    });
  }
  ctx;
  deleteFirst;
  unordered;
  db;
  cell;
  publisher = null;
  crash;
  lastEmptyScanUs = -1;
  lastEmptyScanPhase = null;
  timer = -1;
  onStart() {
    const incarnation = (this.cell.load()?.incarnation ?? -1) + 1;
    this.cell.save({ incarnation }, () => {
      this.publisher = new EventPublisher(this.ctx, incarnation, this.unordered);
      this.publisher.start();
      this.scan();
    });
  }
  later(delayUs) {
    this.ctx.cancelTimer(this.timer);
    this.timer = this.ctx.setTimer(delayUs, "poller:scan");
  }
  scan() {
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        this.later(RETRY_US8);
        return;
      }
      this.db.on(this.db.client.scan(tx, OUTBOX_TABLE, ROWS_PER_SCAN), (scanned) => {
        const reply = okReply(scanned, "scan");
        this.rollbackQuietly(tx);
        if (reply === void 0) {
          this.later(RETRY_US8);
          return;
        }
        const rows = [];
        for (const [key2, value] of reply.rows) {
          const row = decodeOutboxRow(value);
          if (row === void 0) {
            this.ctx.log("an outbox row that is no event: left alone", { key: key2 });
            continue;
          }
          rows.push({ key: key2, event: eventOf(row) });
        }
        if (rows.length === 0) {
          this.lastEmptyScanUs = this.ctx.monotonic();
          this.lastEmptyScanPhase = this.ctx.phase();
          this.later(IDLE_POLL_US3);
          return;
        }
        this.crash.at("poller-after-scan");
        const keys = rows.map((row) => row.key);
        if (this.deleteFirst) {
          this.remove(keys, () => this.publishAll(rows, () => this.later(1)));
        } else {
          this.publishAll(rows, () => this.remove(keys, () => this.later(1)));
        }
      });
    });
  }
  publishAll(rows, then) {
    const publisher = this.publisher;
    const one = (event, done) => publisher.publish(event, (key2, offset) => {
      observe(this.ctx, {
        type: "outbox-published",
        publisher: this.ctx.name,
        eventId: event.eventId,
        key: key2,
        offset
      });
      this.crash.at("poller-after-publish");
      done();
    });
    let waiting = rows.length;
    for (const row of rows) {
      one(row.event, () => {
        waiting--;
        if (waiting === 0) {
          then();
        }
      });
    }
  }
  /** Deletes the rows in one transaction; a failure leaves them (published again later). */
  remove(keys, then) {
    this.db.on(this.db.client.begin(), (begun) => {
      const tx = begun.tx;
      if (tx === null) {
        then();
        return;
      }
      const step = (at2) => {
        const key2 = keys[at2];
        if (key2 === void 0) {
          this.db.on(this.db.client.commit(tx), () => {
            this.crash.at("poller-after-delete");
            then();
          });
          return;
        }
        this.db.on(this.db.client.put(tx, OUTBOX_TABLE, key2, null), (put) => {
          if (okReply(put, "put") === void 0) {
            this.rollbackQuietly(tx);
            then();
            return;
          }
          step(at2 + 1);
        });
      };
      step(0);
    });
  }
  rollbackQuietly(tx) {
    if (!tx.busy && tx.commitSeq === null) {
      this.db.on(this.db.client.rollback(tx), () => {
      });
    }
  }
  onMessage(from2, message) {
    if (this.db.onMessage(from2, message)) {
      return;
    }
    this.publisher?.onMessage(from2, message);
  }
  onTimer(tag, timerId) {
    if (this.db.onTimer(tag, timerId) || this.publisher?.onTimer(tag, timerId) === true) {
      return;
    }
    if (tag === "poller:scan" && timerId === this.timer) {
      this.scan();
    }
  }
  onSynced(syncId, ok) {
    this.cell.onSynced(syncId, ok);
  }
  inspect() {
    return {
      role: "outbox-poller",
      lastEmptyScanUs: this.lastEmptyScanUs,
      lastEmptyScanPhase: this.lastEmptyScanPhase
    };
  }
};

// systems/outbox/program.ts
var OUTBOX_VARIANTS = {
  "relay-saves-position-before-publish": "the relay saves its position past an event (the poller deletes its rows) before Kafka has acknowledged it, so a crash in between skips the event",
  "relay-position-per-lsn": "the CDC relay saves its position as the commit LSN alone and resumes after the whole LSN, so a crash between two events of one transaction skips the second (Debezium's multi-event-per-LSN trap)",
  "publish-unordered": "the relay publishes a batch of events concurrently without idempotence (max.in.flight > 1), so jitter and retries reorder one order\u2019s events",
  "consumer-not-idempotent": "the consumers apply every record they read without checking processed/, so a re-published or redelivered event takes effect twice",
  "outbox-outside-transaction": "the service writes the outbox rows in a second transaction after the business one commits, so a crash or failure in between loses the events"
};
var CDC_VARIANTS = OUTBOX_VARIANTS;
var POLLING_VARIANTS = Object.fromEntries(
  Object.entries(OUTBOX_VARIANTS).filter(([name]) => name !== "relay-position-per-lsn")
);
function outboxGroups(topology) {
  const kafka = kafkaGroups({
    controllers: 3,
    brokers: topology.brokers,
    producers: 0,
    consumers: 0
  }).filter((group) => group.name === "controllers" || group.name === "brokers");
  const relay = topology.relay === "cdc" ? [
    {
      name: OUTBOX_GROUPS.relay,
      size: 1,
      prefix: "relay",
      alone: true,
      program: (ctx) => new CdcRelay(ctx)
    }
  ] : topology.relay === "polling" ? [
    {
      name: OUTBOX_GROUPS.poller,
      size: 1,
      prefix: "poller",
      alone: true,
      program: (ctx) => new PollingPublisher(ctx)
    }
  ] : [];
  return [
    ...kafka,
    { name: OUTBOX_GROUPS.db, size: 1, prefix: "db", alone: true, program: topology.database },
    ...relay,
    {
      name: OUTBOX_GROUPS.services,
      size: topology.services,
      prefix: "svc",
      program: (ctx) => new OrderService(ctx)
    },
    {
      name: OUTBOX_GROUPS.payments,
      size: 1,
      prefix: "pay",
      program: (ctx) => new OutboxConsumer(ctx, { dbGroup: OUTBOX_GROUPS.paymentsDb, effectTable: "charges" })
    },
    {
      name: OUTBOX_GROUPS.paymentsDb,
      size: 1,
      prefix: "paydb",
      alone: true,
      program: topology.database
    },
    {
      name: OUTBOX_GROUPS.shipping,
      size: 1,
      prefix: "ship",
      program: (ctx) => new OutboxConsumer(ctx, { dbGroup: OUTBOX_GROUPS.shippingDb, effectTable: "shipments" })
    },
    {
      name: OUTBOX_GROUPS.shippingDb,
      size: 1,
      prefix: "shipdb",
      alone: true,
      program: topology.database
    }
  ];
}

// scenarios/outbox.ts
var SECOND11 = 1e6;
var database = dbNodeProgram;
var DATABASE_VARIANTS = Object.fromEntries(
  Object.entries(DB_VARIANTS).map(([name, description]) => [`db:${name}`, description])
);
function outboxScenario(relay) {
  return {
    system: "outbox",
    durationUs: 6 * SECOND11,
    settleUs: 8 * SECOND11,
    shape: {
      durationUs: { min: 2 * SECOND11, max: 8 * SECOND11 },
      groupSizes: { brokers: [3, 4], services: [1, 2] }
    },
    faults: {
      eligible: [...FAULT_KINDS_BUT_MEDIA],
      swarm: true
    },
    workload: {
      keys: 3,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      acks: "all",
      uncleanElection: false,
      leaderEpochs: true,
      serviceThinkUs: 12e4
    },
    invariants: (plan) => [
      ...raftSafetyInvariants({ groups: ["metadata"] }),
      ...kafkaBrokerInvariants(),
      ...outboxInvariants(plan, { relay })
    ],
    sometimes: {
      "a consumer absorbed a redelivered record": (record2) => record2.observation.type === "outbox-duplicate-absorbed",
      "a transaction with several events committed": (record2) => record2.observation.type === "outbox-tx-committed" && record2.observation["events"].length > 1,
      "a transaction rolled back": (record2) => record2.observation.type === "outbox-tx-aborted",
      ...relay === "none" ? {} : {
        "a relay re-published an event after a crash and a consumer absorbed it": (record2) => record2.observation.type === "outbox-duplicate-absorbed" && (record2.observation["offset"] !== record2.observation["firstOffset"] || record2.observation["key"] !== record2.observation["firstKey"])
      },
      ...relay === "cdc" ? {
        "the relay published an event of a multi-event LSN": (record2) => record2.observation.type === "outbox-published" && (record2.observation["eventsAtLsn"] ?? 0) > 1,
        "the relay resumed from a saved position": (record2) => record2.observation.type === "outbox-relay-resumed" && record2.observation["after"] !== null
      } : {}
    }
  };
}
function withMediaFaults(scenario2) {
  return {
    ...scenario2,
    faults: { eligible: FAULT_KINDS.filter((kind) => kind !== "latent-sector"), swarm: true },
    workload: {
      ...scenario2.workload,
      recoveryPoints: true,
      syncMarks: true,
      eligibleLeaderReplicas: true
    },
    sometimes: { ...scenario2.sometimes, ...ELR_SOMETIMES }
  };
}
registerScenario({
  ...withMediaFaults(outboxScenario("cdc")),
  name: "outbox-cdc",
  groups: outboxGroups({ relay: "cdc", services: 2, brokers: 4, database }),
  description: "Order services write each order and its outbox events in one transaction; a CDC relay tails the database log from its durable (lsn, index) position into Kafka-lite (idempotent, acks=all); payment and shipping consumers apply each event once on their own databases. Crashes everywhere. Committed events reach both consumers exactly once and in order per order, aborted ones never, the relay catches up.",
  variants: { ...CDC_VARIANTS, ...DATABASE_VARIANTS }
});
registerScenario({
  ...withMediaFaults(outboxScenario("polling")),
  name: "outbox-polling",
  groups: outboxGroups({ relay: "polling", services: 2, brokers: 4, database }),
  description: "As outbox-cdc, with a polling publisher instead of the CDC relay: it scans unsent outbox rows in key order, publishes them in order, then deletes them. Committed events reach both consumers exactly once and in order per order, aborted ones never, the outbox drains.",
  variants: { ...POLLING_VARIANTS, ...DATABASE_VARIANTS }
});
registerScenario({
  ...outboxScenario("none"),
  name: "dual-write",
  groups: outboxGroups({ relay: "none", services: 2, brokers: 4, database }),
  workload: { ...outboxScenario("none").workload, serviceMode: "dual-write" },
  description: "Expected loss: no outbox. The order service commits its transaction, then publishes the events to Kafka-lite itself; a crash of the service between the commit and the acknowledgement loses them (the dual-write problem).",
  variants: {}
});
registerScenario({
  ...outboxScenario("none"),
  name: "dual-write-publish-first",
  groups: outboxGroups({ relay: "none", services: 2, brokers: 4, database }),
  workload: {
    ...outboxScenario("none").workload,
    serviceMode: "dual-write",
    dualWriteOrder: "publish-first"
  },
  description: "Expected invention: no outbox, and the service publishes its events before the credit check and the commit; an order that then rolls back (or whose commit is lost with a crash) was announced anyway, and the consumers act on it.",
  variants: {}
});
var POINTS_BY_RELAY = {
  cdc: CRASH_POINTS.filter(
    (point) => !point.startsWith("poller-") && point !== "service-after-publish"
  ),
  polling: CRASH_POINTS.filter(
    (point) => !point.startsWith("relay-") && point !== "service-after-publish"
  ),
  // The dual-writing service has no relay, and publishes itself.
  none: CRASH_POINTS.filter(
    (point) => point.startsWith("service-") || point.startsWith("consumer-")
  )
};
var HITS = 3;
function crashPointScenario(relay, name) {
  const points = POINTS_BY_RELAY[relay];
  const base = outboxScenario(relay);
  const dualWrite = relay === "none";
  registerScenario({
    ...base,
    name,
    ...dualWrite ? { workload: { ...base.workload, serviceMode: "dual-write" } } : {},
    groups: outboxGroups({ relay, services: 2, brokers: 3, database }),
    shape: void 0,
    // A relay that dies at every read gets nothing out until the settle phase: give it time.
    settleUs: 12 * SECOND11,
    description: `${dualWrite ? "Expected loss: the dual-writing service under " : ""}A crash at every line (${relay === "cdc" ? "CDC relay" : relay === "polling" ? "polling publisher" : "no outbox: the service commits, then publishes"}): seed s crashes the process at crash point ${points.length > 0 ? "number s mod " + points.length : ""} of [${points.join(", ")}], on hit 1 + \u230As / ${points.length}\u230B mod ${HITS} of it in every incarnation until the settle phase, with no other fault. Each must end with every committed event consumed exactly once, in order, and the relay caught up.`,
    faults: { eligible: [], swarm: false },
    plan: (seed, plan) => ({
      ...plan,
      knobs: quietKnobs(),
      faults: [],
      workload: {
        ...plan.workload,
        crashPoint: points[seed % points.length],
        crashPointHit: 1 + Math.floor(seed / points.length) % HITS
      }
    }),
    sometimes: {
      ...base.sometimes,
      "the scripted crash point killed a process": (record2) => record2.observation.type === "outbox-crash-point"
    },
    variants: relay === "cdc" ? CDC_VARIANTS : relay === "polling" ? POLLING_VARIANTS : {}
  });
}
crashPointScenario("cdc", "outbox-crash-points");
crashPointScenario("polling", "outbox-polling-crash-points");
crashPointScenario("none", "dual-write-crash-points");

// sim/guard.ts
var DeterminismError = class extends Error {
  name = "DeterminismError";
};
var realNow = performance.now.bind(performance);
function forbidden(what, instead) {
  return () => {
    throw new DeterminismError(
      `${what} was called inside a simulation; a run must be deterministic: ${instead}`
    );
  };
}
var depth = 0;
var saved = null;
function installGuard() {
  depth++;
  if (depth > 1) {
    return;
  }
  saved = {
    random: Math.random,
    dateNow: Date.now,
    performanceNow: performance.now,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    setImmediate: globalThis.setImmediate,
    hrtime: process.hrtime
  };
  Math.random = forbidden("Math.random", "use ctx.random");
  Date.now = forbidden("Date.now", "use ctx.now()");
  performance.now = forbidden("performance.now", "use ctx.now()");
  const timers = "use ctx.setTimer()";
  globalThis.setTimeout = forbidden("setTimeout", timers);
  globalThis.setInterval = forbidden("setInterval", timers);
  globalThis.setImmediate = forbidden("setImmediate", timers);
  const hrtime = forbidden("process.hrtime", "use ctx.now()");
  hrtime.bigint = forbidden("process.hrtime.bigint", "use ctx.now()");
  process.hrtime = hrtime;
}
function removeGuard() {
  depth--;
  if (depth > 0 || saved === null) {
    return;
  }
  Math.random = saved.random;
  Date.now = saved.dateNow;
  performance.now = saved.performanceNow;
  globalThis.setTimeout = saved.setTimeout;
  globalThis.setInterval = saved.setInterval;
  globalThis.setImmediate = saved.setImmediate;
  process.hrtime = saved.hrtime;
  saved = null;
}
function guarded(body) {
  installGuard();
  try {
    return body();
  } finally {
    removeGuard();
  }
}

// sim/log.ts
import pino from "pino";
var Logger = class {
  enabled;
  pino;
  constructor(sink) {
    this.enabled = sink !== void 0;
    if (sink === void 0) {
      this.pino = null;
      return;
    }
    const destination = {
      write(line) {
        const { t, node, msg, level: _level, ...fields } = JSON.parse(line);
        sink({ timeUs: t, node, message: msg, fields });
      }
    };
    this.pino = pino({ base: null, timestamp: false, level: "debug" }, destination);
  }
  write(timeUs, node, message, fields) {
    this.pino?.info({ t: timeUs, node, ...fields }, message);
  }
};

// sim/network.ts
var Network = class {
  constructor(size, knobs, random) {
    this.random = random;
    assert(size > 0 && size <= 1024, "a network has 1 to 1024 nodes");
    this.size = size;
    this.cut = new Uint8Array(size * size);
    this.stats = { messages: new Float64Array(size * size), bytes: new Float64Array(size * size) };
    this.dropProbability = knobs.dropProbability;
    this.duplicateProbability = knobs.duplicateProbability;
    this.latencyTailProbability = knobs.latencyTailProbability;
    this.latencyTailMultiplier = knobs.latencyTailMultiplier;
    this.latencyMinUs = knobs.latencyMinUs;
    this.latencyJitterMeanUs = knobs.latencyJitterMeanUs;
  }
  random;
  size;
  cut;
  cutCount = 0;
  stats;
  dropProbability;
  duplicateProbability;
  latencyTailProbability;
  latencyTailMultiplier;
  latencyMinUs;
  latencyJitterMeanUs;
  isCut(from2, to) {
    return this.cutCount > 0 && this.cut[from2 * this.size + to] === 1;
  }
  /** Replaces the current partition: exactly the given directed links are cut. */
  partition(links) {
    this.cut.fill(0);
    this.cutCount = 0;
    for (const [from2, to] of links) {
      assert(from2 >= 0 && from2 < this.size && to >= 0 && to < this.size, "link out of range");
      if (this.cut[from2 * this.size + to] === 0) {
        this.cut[from2 * this.size + to] = 1;
        this.cutCount++;
      }
    }
  }
  heal() {
    this.cut.fill(0);
    this.cutCount = 0;
  }
  /** Faults stop: no more drops, duplicates or tail latency. */
  calm() {
    this.dropProbability = 0;
    this.duplicateProbability = 0;
    this.latencyTailProbability = 0;
    this.heal();
  }
  count(from2, to, sizeBytes) {
    const index = from2 * this.size + to;
    this.stats.messages[index] = this.stats.messages[index] + 1;
    this.stats.bytes[index] = this.stats.bytes[index] + sizeBytes;
  }
  shouldDrop() {
    return this.dropProbability > 0 && this.random.chance(this.dropProbability);
  }
  shouldDuplicate() {
    return this.duplicateProbability > 0 && this.random.chance(this.duplicateProbability);
  }
  /** One message's delay: the minimum, exponential jitter, and now and then a long tail. */
  delayUs() {
    let delay = this.latencyMinUs;
    if (this.latencyJitterMeanUs > 0) {
      delay += this.random.exponential(this.latencyJitterMeanUs);
    }
    if (this.latencyTailProbability > 0 && this.random.chance(this.latencyTailProbability)) {
      this.tailHits++;
      delay *= this.latencyTailMultiplier;
    }
    return delay;
  }
  tailHits = 0;
};

// sim/queue.ts
var EventKind = {
  Deliver: 0,
  Timer: 1,
  Synced: 2,
  Fault: 3,
  Script: 4,
  Resume: 5,
  Settle: 6
};
var SimEvent = class {
  timeUs;
  sequence;
  kind;
  node;
  /** The target node's incarnation when the event was scheduled; stale ones are skipped. */
  incarnation;
  from;
  /** Timer or sync id, or the index of a fault or script step. */
  id;
  payload;
  digest;
  constructor(timeUs, sequence, kind, node, incarnation, from2, id, payload, digest) {
    this.timeUs = timeUs;
    this.sequence = sequence;
    this.kind = kind;
    this.node = node;
    this.incarnation = incarnation;
    this.from = from2;
    this.id = id;
    this.payload = payload;
    this.digest = digest;
  }
};
function before(a, b) {
  return a.timeUs < b.timeUs || a.timeUs === b.timeUs && a.sequence < b.sequence;
}
var EventQueue = class {
  heap = [];
  capacityMax;
  constructor(capacityMax) {
    assert(capacityMax > 0, "the event queue needs a positive capacity");
    this.capacityMax = capacityMax;
  }
  get size() {
    return this.heap.length;
  }
  push(event) {
    const heap = this.heap;
    assert(heap.length < this.capacityMax, "event queue is full: a system floods the simulator");
    let index = heap.length;
    heap.push(event);
    while (index > 0) {
      const parent = index - 1 >> 1;
      const parentEvent = heap[parent];
      if (!before(event, parentEvent)) {
        break;
      }
      heap[index] = parentEvent;
      index = parent;
    }
    heap[index] = event;
  }
  peek() {
    return this.heap[0];
  }
  pop() {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === void 0 || last === void 0 || heap.length === 0) {
      return top;
    }
    const length = heap.length;
    let index = 0;
    for (; ; ) {
      const left = 2 * index + 1;
      if (left >= length) {
        break;
      }
      const right = left + 1;
      let child = left;
      let childEvent = heap[left];
      if (right < length) {
        const rightEvent = heap[right];
        if (before(rightEvent, childEvent)) {
          child = right;
          childEvent = rightEvent;
        }
      }
      if (!before(childEvent, last)) {
        break;
      }
      heap[index] = childEvent;
      index = child;
    }
    heap[index] = last;
    return top;
  }
};

// sim/simulation.ts
var CHECKPOINT_EVERY = 1e3;
var DELIVER = EventKind.Deliver;
var TIMER = EventKind.Timer;
var SYNCED = EventKind.Synced;
var FAULT = EventKind.Fault;
var SCRIPT = EventKind.Script;
var RESUME = EventKind.Resume;
var SETTLE = EventKind.Settle;
var FROM_HARNESS = HARNESS;
var digestOf = digestValue;
var DEFAULT_BUDGETS = { eventsMax: 5e6, wallMsMax: 6e4 };
var QUEUE_CAPACITY_MAX = 4e6;
var OBSERVATIONS_MAX = 2e6;
var OBSERVATION_TYPES_MAX = 4096;
var REPLAY_DELAY_US_MIN = 1e5;
var REPLAY_DELAY_US_MAX = 5e6;
var WALL_CHECK_EVERY = 4096;
var SUPERVISOR_RESTART_US = 5e4;
var NodeSlot = class {
  constructor(id, name, group, makeProgram, disk, random) {
    this.id = id;
    this.name = name;
    this.group = group;
    this.makeProgram = makeProgram;
    this.disk = disk;
    this.random = random;
  }
  id;
  name;
  group;
  makeProgram;
  disk;
  random;
  up = false;
  paused = false;
  incarnation = 0;
  program = null;
  context = null;
  /** Wall clock minus true time: clock jumps and drift accumulated before the last rate change. */
  clockOffsetUs = 0;
  /** The monotonic clock's offset: drift accumulated before the last rate change, never jumps. */
  monotonicOffsetUs = 0;
  clockDriftPpm = 0;
  clockDriftSinceUs = 0;
  /** When the node last restarted after a crash (never: -Infinity), to count crash loops. */
  restartedAtUs = Number.NEGATIVE_INFINITY;
  liveTimers = /* @__PURE__ */ new Set();
  pausedEvents = [];
  localTimeUs(trueUs) {
    return trueUs + this.clockOffsetUs + this.driftSinceRateChangeUs(trueUs);
  }
  /** The node's monotonic clock: it runs at the node's clock rate but never jumps. */
  monotonicTimeUs(trueUs) {
    return trueUs + this.monotonicOffsetUs + this.driftSinceRateChangeUs(trueUs);
  }
  /** From trueUs on, both clocks run at 1 + driftPpm / 10^6 of true time. */
  changeRate(trueUs, driftPpm) {
    this.clockOffsetUs = this.localTimeUs(trueUs) - trueUs;
    this.monotonicOffsetUs = this.monotonicTimeUs(trueUs) - trueUs;
    this.clockDriftSinceUs = trueUs;
    this.clockDriftPpm = driftPpm;
  }
  driftSinceRateChangeUs(trueUs) {
    return Math.trunc((trueUs - this.clockDriftSinceUs) * this.clockDriftPpm / 1e6);
  }
  /** Converts a delay on this node's clock into true time. */
  trueDelayUs(localDelayUs) {
    if (this.clockDriftPpm === 0) {
      return localDelayUs;
    }
    return Math.ceil(localDelayUs * 1e6 / (1e6 + this.clockDriftPpm));
  }
};
var StopRun = class extends Error {
};
var TopologyError = class extends Error {
  name = "TopologyError";
};
var Simulation = class {
  plan;
  scenario;
  topology;
  nodes;
  network;
  queue = new EventQueue(QUEUE_CAPACITY_MAX);
  hash = new TraceHash();
  checkpoints = [];
  invariants;
  /** The invariants that check observations as they come, in declaration order. */
  observers;
  /** Per observation type, the observers that read it (see Invariant.observes), in order. */
  observersByType = /* @__PURE__ */ new Map();
  observations = [];
  history = [];
  sometimesReached = /* @__PURE__ */ new Set();
  sometimesPending;
  undecided = [];
  faultsFired = {};
  partitionShapes = {};
  buggifyActive = /* @__PURE__ */ new Map();
  buggifyRandom;
  /** Its own stream: which duplicates arrive late never shifts the network's draws. */
  replayRandom;
  budgets;
  logger;
  trace;
  untilEvent;
  sequence = 0;
  nextTimerId = 1;
  nowUs = 0;
  eventIndex = 0;
  phase = "faults";
  violation;
  outcome = "pass";
  stats = {
    events: 0,
    virtualTimeUs: 0,
    wallMs: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    bytesSent: 0,
    timersFired: 0,
    crashes: 0,
    restarts: 0,
    fsyncs: 0,
    observations: 0,
    operations: 0
  };
  view;
  constructor(scenario2, plan, options = {}) {
    assert(plan.scenario === scenario2.name, "the plan belongs to another scenario");
    this.plan = plan;
    this.scenario = scenario2;
    this.sometimesPending = Object.entries(scenario2.sometimes ?? {});
    const root = Random.fromSeed(plan.seed);
    this.topology = new Topology(plan.groups);
    const total = this.topology.size;
    const mismatch = topologyMismatch(scenario2, plan);
    if (mismatch !== void 0) {
      throw new TopologyError(mismatch);
    }
    const programs = /* @__PURE__ */ new Map();
    for (const group of plan.groups) {
      programs.set(group.name, groupProgram(scenario2, group.name));
    }
    this.nodes = [];
    for (let id = 0; id < total; id++) {
      const group = this.topology.groupOf(id);
      const disk = new Disk(root.fork(`disk:${id}`));
      disk.readCorruptionProbability = plan.knobs.readCorruptionProbability;
      const program = programs.get(group);
      const name = this.topology.name(id);
      const slot = new NodeSlot(id, name, group, program, disk, root.fork(`node:${id}`));
      disk.scheduler = { scheduleSync: (syncId) => this.scheduleSync(slot, syncId) };
      disk.onMisdirected = (where) => {
        this.fired("misdirected-write");
        this.trace?.mediaFault(this, slot.id, "misdirected-write", where);
      };
      this.nodes.push(slot);
    }
    this.network = new Network(total, plan.knobs, root.fork("network"));
    this.buggifyRandom = root.fork("buggify");
    this.replayRandom = root.fork("replay");
    this.budgets = { ...DEFAULT_BUDGETS, ...scenario2.budgets, ...options.budgets };
    this.logger = new Logger(options.logSink);
    this.trace = options.trace;
    this.untilEvent = options.untilEvent ?? Number.POSITIVE_INFINITY;
    this.invariants = scenario2.invariants(plan);
    this.observers = this.invariants.filter((invariant) => invariant.onObservation !== void 0);
    this.view = this.makeView();
  }
  /** Runs the plan to its end (or to a violation or budget) under the determinism guard. */
  run() {
    const wallStartMs = realNow();
    guarded(() => this.runGuarded(wallStartMs));
    this.stats.wallMs = realNow() - wallStartMs;
    return this.result();
  }
  runGuarded(wallStartMs) {
    try {
      this.schedulePlan();
      for (const slot of this.nodes) {
        this.boot(slot);
      }
      this.loop(wallStartMs);
      if (this.violation === void 0 && this.eventIndex < this.untilEvent) {
        this.nowUs = this.plan.durationUs + this.plan.settleUs;
        this.checkAtEnd();
      }
    } catch (error) {
      if (!(error instanceof StopRun)) {
        throw error;
      }
    }
  }
  schedulePlan() {
    this.plan.faults.forEach((fault, index) => {
      this.push(fault.atUs, FAULT, -1, 0, -1, index, null, 0);
    });
    this.plan.script.forEach((step, index) => {
      this.push(step.atUs, SCRIPT, -1, 0, -1, index, null, 0);
    });
    this.push(this.plan.durationUs, SETTLE, -1, 0, -1, 0, null, 0);
  }
  loop(wallStartMs) {
    const endUs = this.plan.durationUs + this.plan.settleUs;
    const queue = this.queue;
    for (; ; ) {
      const next = queue.peek();
      if (next === void 0 || next.timeUs > endUs) {
        return;
      }
      queue.pop();
      this.nowUs = next.timeUs;
      if (!this.dispatch(next)) {
        continue;
      }
      this.eventIndex++;
      this.hash.add(next.timeUs, next.kind, next.node, next.digest);
      if (this.eventIndex % CHECKPOINT_EVERY === 0) {
        this.checkpoints.push([this.eventIndex, this.hash.hex()]);
      }
      if (this.violation !== void 0 || this.eventIndex >= this.untilEvent) {
        return;
      }
      if (this.eventIndex >= this.budgets.eventsMax) {
        this.exceed(`the run exceeded its budget of ${this.budgets.eventsMax} events`);
        return;
      }
      if (this.eventIndex % WALL_CHECK_EVERY === 0 && realNow() - wallStartMs > this.budgets.wallMsMax) {
        this.exceed(`the run exceeded its wall-clock budget of ${this.budgets.wallMsMax} ms`);
        return;
      }
    }
  }
  exceed(message) {
    this.outcome = "budget";
    this.violation = {
      invariant: "budget",
      timeUs: this.nowUs,
      eventIndex: this.eventIndex,
      message
    };
  }
  /** Handles one event; returns false when it was stale (a dead incarnation's) and skipped. */
  dispatch(event) {
    switch (event.kind) {
      case DELIVER:
        return this.deliver(event);
      case TIMER:
        return this.fireTimer(event);
      case SYNCED:
        return this.completeSync(event);
      case FAULT:
        return this.applyFault(event.id);
      case SCRIPT:
        return this.runScriptStep(event.id);
      case RESUME:
        return this.resume(event);
      case SETTLE:
        this.settle();
        return true;
      default:
        throw new AssertionError(`unknown event kind ${event.kind}`);
    }
  }
  // --- scheduling -------------------------------------------------------------------------
  push(timeUs, kind, node, incarnation, from2, id, payload, digest) {
    assert(Number.isSafeInteger(timeUs) && timeUs >= this.nowUs, "events cannot go back in time");
    const event = new SimEvent(
      timeUs,
      this.sequence++,
      kind,
      node,
      incarnation,
      from2,
      id,
      payload,
      digest
    );
    this.queue.push(event);
    return event;
  }
  /** A paused node's events wait for it; returns true when the event was set aside. */
  heldForPause(slot, event) {
    if (!slot.paused) {
      return false;
    }
    assert(slot.pausedEvents.length < QUEUE_CAPACITY_MAX, "too many events held for a pause");
    slot.pausedEvents.push(event);
    return true;
  }
  live(slot, event) {
    return slot.up && slot.incarnation === event.incarnation;
  }
  // --- messages ---------------------------------------------------------------------------
  send(slot, to, message, sizeBytes) {
    if (!(to >= 0 && to < this.nodes.length)) {
      fail(`send to unknown node ${to}`);
    }
    assert(typeof message.type === "string", "a message needs a type");
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0, "message size must be an integer");
    const target = this.nodes[to];
    const network = this.network;
    this.stats.messagesSent++;
    this.stats.bytesSent += sizeBytes;
    network.count(slot.id, to, sizeBytes);
    const messageId = this.stats.messagesSent;
    this.trace?.send(this, slot.id, to, messageId, message, sizeBytes);
    if (network.isCut(slot.id, to)) {
      this.dropped(messageId, slot.id, to, "partition");
      return;
    }
    if (network.shouldDrop()) {
      this.fired("drop");
      this.dropped(messageId, slot.id, to, "drop");
      return;
    }
    const digest = digestOf(message);
    this.push(
      this.nowUs + network.delayUs(),
      DELIVER,
      to,
      target.incarnation,
      slot.id,
      messageId,
      message,
      digest
    );
    if (network.shouldDuplicate()) {
      this.fired("duplicate");
      this.stats.messagesDuplicated++;
      this.trace?.duplicate(this, slot.id, to, messageId);
      let delay = network.delayUs();
      const replayProbability = this.plan.knobs.replayProbability ?? 0;
      if (replayProbability > 0 && this.replayRandom.chance(replayProbability)) {
        this.fired("replay");
        delay += this.replayRandom.between(REPLAY_DELAY_US_MIN, REPLAY_DELAY_US_MAX);
      }
      this.push(
        this.nowUs + delay,
        DELIVER,
        to,
        target.incarnation,
        slot.id,
        messageId,
        message,
        digest
      );
    }
  }
  dropped(messageId, from2, to, reason) {
    this.stats.messagesDropped++;
    this.trace?.drop(this, from2, to, messageId, reason);
  }
  deliver(event) {
    const slot = this.nodes[event.node];
    if (!this.live(slot, event)) {
      this.dropped(event.id, event.from, event.node, slot.up ? "restarted" : "down");
      return false;
    }
    if (event.from !== FROM_HARNESS && this.network.isCut(event.from, event.node)) {
      this.dropped(event.id, event.from, event.node, "partition");
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    this.stats.messagesDelivered++;
    this.trace?.deliver(this, event.from, event.node, event.id, event.payload);
    const program = slot.program;
    try {
      program.onMessage(event.from, event.payload);
    } catch (error) {
      this.nodeThrew(slot, error);
    }
    return true;
  }
  // --- timers and fsync -------------------------------------------------------------------
  setTimer(slot, delayUs, tag) {
    assert(
      Number.isSafeInteger(delayUs) && delayUs >= 0,
      "a timer delay is a non-negative integer"
    );
    const timerId = this.nextTimerId++;
    slot.liveTimers.add(timerId);
    const trueDelay = slot.trueDelayUs(delayUs);
    this.push(this.nowUs + trueDelay, TIMER, slot.id, slot.incarnation, -1, timerId, tag, 0);
    return timerId;
  }
  fireTimer(event) {
    const slot = this.nodes[event.node];
    if (!this.live(slot, event) || !slot.liveTimers.has(event.id)) {
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    slot.liveTimers.delete(event.id);
    this.stats.timersFired++;
    const tag = event.payload;
    this.trace?.timer(this, slot.id, tag);
    const program = slot.program;
    try {
      program.onTimer(tag, event.id);
    } catch (error) {
      this.nodeThrew(slot, error);
    }
    return true;
  }
  scheduleSync(slot, syncId) {
    const knobs = this.plan.knobs;
    const latency = slot.random.between(knobs.fsyncLatencyMinUs, knobs.fsyncLatencyMaxUs);
    this.stats.fsyncs++;
    this.push(this.nowUs + latency, SYNCED, slot.id, slot.incarnation, -1, syncId, null, syncId);
  }
  completeSync(event) {
    const slot = this.nodes[event.node];
    if (!this.live(slot, event)) {
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    const ok = slot.disk.completeSync(event.id);
    if (!ok) {
      this.fired("fsync-error");
    }
    this.trace?.fsync(this, slot.id, event.id, ok);
    const program = slot.program;
    if (program.onSynced !== void 0) {
      try {
        program.onSynced(event.id, ok);
      } catch (error) {
        this.nodeThrew(slot, error);
      }
    }
    return true;
  }
  // --- node lifecycle ---------------------------------------------------------------------
  boot(slot) {
    if (slot.up) {
      fail(`${slot.name} is already up`);
    }
    slot.up = true;
    slot.paused = false;
    slot.incarnation++;
    const context = new SimContext(this, slot);
    slot.context = context;
    slot.program = slot.makeProgram(context);
    this.guardNode(slot, () => slot.program.onStart());
  }
  crash(slot, tear, reason) {
    if (!slot.up) {
      return;
    }
    this.trace?.lifecycle(this, slot.id, "crash", reason);
    slot.up = false;
    slot.paused = false;
    slot.pausedEvents.length = 0;
    slot.liveTimers.clear();
    slot.incarnation++;
    if (slot.context !== null) {
      slot.context.dead = true;
    }
    slot.context = null;
    slot.program = null;
    slot.disk.crash(tear);
    this.stats.crashes++;
  }
  restart(slot) {
    if (slot.up) {
      return;
    }
    this.stats.restarts++;
    slot.restartedAtUs = this.nowUs;
    this.trace?.lifecycle(this, slot.id, "restart", "");
    this.boot(slot);
  }
  /** Runs a node's handler; an I/O error or exit kills the process, anything else is a bug. */
  guardNode(slot, body) {
    try {
      body();
    } catch (error) {
      this.nodeThrew(slot, error);
    }
  }
  /** What guardNode does with what a node's handler threw. */
  nodeThrew(slot, error) {
    if (error instanceof StopRun) {
      throw error;
    }
    if (error instanceof DiskReadError || error instanceof ProcessExit) {
      this.log(slot, "process died", { error: error.message });
      this.crash(slot, false, `died on ${error.message}`);
      const restartAt = this.nowUs + SUPERVISOR_RESTART_US;
      this.push(restartAt, FAULT, -1, 0, -1, -1 - slot.id, null, 0);
      return;
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.report(
      {
        invariant: "no-exception",
        timeUs: this.nowUs,
        eventIndex: this.eventIndex,
        message: `${slot.name} threw ${text}`,
        node: slot.id
      },
      "error"
    );
  }
  report(violation, outcome) {
    this.violation = violation;
    this.outcome = outcome;
    this.trace?.violation(this, violation);
    throw new StopRun();
  }
  resume(event) {
    const slot = this.nodes[event.node];
    if (!this.live(slot, event) || !slot.paused) {
      return false;
    }
    this.resumeNode(slot);
    return true;
  }
  resumeNode(slot) {
    slot.paused = false;
    this.trace?.lifecycle(this, slot.id, "resume", "");
    const held = slot.pausedEvents.splice(0);
    for (const event of held) {
      this.push(
        this.nowUs,
        event.kind,
        event.node,
        event.incarnation,
        event.from,
        event.id,
        event.payload,
        event.digest
      );
    }
  }
  // --- faults, script and settle ----------------------------------------------------------
  applyFault(index) {
    if (index < 0) {
      this.restart(this.nodes[-1 - index]);
      return true;
    }
    if (this.phase === "settle") {
      return false;
    }
    const fault = this.plan.faults[index];
    this.trace?.fault(this, fault);
    switch (fault.kind) {
      case "partition":
        this.network.partition(fault.links);
        this.fired("partition");
        this.partitionShapes[fault.shape] = (this.partitionShapes[fault.shape] ?? 0) + 1;
        return true;
      case "heal":
        this.network.heal();
        return true;
      default:
        return this.applyNodeFault(fault);
    }
  }
  applyNodeFault(fault) {
    const slot = this.nodes[fault.node];
    switch (fault.kind) {
      case "crash": {
        const tear = slot.random.chance(this.plan.knobs.tornWriteProbability);
        if (slot.up) {
          this.fired("crash");
          if (this.nowUs - slot.restartedAtUs <= CRASH_LOOP_WINDOW_US) {
            this.fired("crash-loop");
          }
          if (tear) {
            this.fired("torn-write");
          }
        }
        this.crash(slot, tear, tear ? "crash (unsynced writes torn)" : "crash");
        return true;
      }
      case "restart":
        this.restart(slot);
        return true;
      case "pause":
        if (slot.up && !slot.paused) {
          this.fired("pause");
          slot.paused = true;
          this.push(
            this.nowUs + fault.durationUs,
            RESUME,
            slot.id,
            slot.incarnation,
            -1,
            0,
            null,
            0
          );
        }
        return true;
      case "clock-jump":
        this.fired("clock");
        slot.clockOffsetUs += fault.deltaUs;
        return true;
      case "clock-drift":
        this.fired("clock");
        slot.changeRate(this.nowUs, fault.driftPpm);
        return true;
      case "latent-sector":
        if (slot.disk.armLatentSectorError()) {
          this.fired("latent-sector");
        }
        return true;
      case "fsync-error":
        slot.disk.armFsyncError();
        return true;
      case "bit-rot": {
        const rotted = slot.disk.rotSyncedSector();
        if (rotted !== void 0) {
          this.fired("bit-rot");
          this.trace?.mediaFault(this, slot.id, "bit-rot", rotted);
        }
        return true;
      }
      case "misdirected-write":
        slot.disk.armMisdirectedWrite();
        return true;
    }
  }
  runScriptStep(index) {
    const step = this.plan.script[index];
    if (step === void 0) {
      fail(`no script step ${index}`);
    }
    if (step.kind === "inject") {
      const slot = this.nodes[step.node];
      if (!slot.up) {
        return false;
      }
      const digest = digestOf(step.message);
      this.push(
        this.nowUs,
        DELIVER,
        step.node,
        slot.incarnation,
        FROM_HARNESS,
        0,
        step.message,
        digest
      );
      return true;
    }
    const check = this.scenario.checks?.[step.check];
    if (check === void 0) {
      fail(`the scenario has no check named ${step.check}`);
    }
    const verdict = check(this.view);
    if (verdict !== void 0) {
      this.report(
        {
          invariant: `check:${step.check}`,
          timeUs: this.nowUs,
          eventIndex: this.eventIndex,
          message: verdict
        },
        "violation"
      );
    }
    return true;
  }
  /** Faults stop, the network heals, crashed nodes restart: liveness is judged after this. */
  settle() {
    this.phase = "settle";
    this.trace?.lifecycle(this, -1, "settle", "");
    this.network.calm();
    for (const slot of this.nodes) {
      slot.disk.readCorruptionProbability = 0;
      slot.disk.disarmMisdirectedWrite();
      if (slot.paused) {
        this.resumeNode(slot);
      }
      if (!slot.up) {
        this.restart(slot);
      }
    }
  }
  fired(kind) {
    this.faultsFired[kind] = (this.faultsFired[kind] ?? 0) + 1;
  }
  // --- observations, history, invariants --------------------------------------------------
  observe(slot, observation) {
    assert(typeof observation.type === "string", "an observation needs a type");
    assert(this.observations.length < OBSERVATIONS_MAX, "too many observations in one run");
    const record2 = {
      node: slot.id,
      timeUs: this.nowUs,
      eventIndex: this.eventIndex,
      observation
    };
    this.observations.push(record2);
    this.stats.observations++;
    this.trace?.observe(this, record2);
    this.checkSometimes(record2);
    const observers = this.observersOf(observation.type);
    for (let index = 0; index < observers.length; index++) {
      const invariant = observers[index];
      const verdict = invariant.onObservation(
        record2,
        this.view
      );
      if (verdict !== void 0) {
        this.report(
          {
            invariant: invariant.name,
            timeUs: this.nowUs,
            eventIndex: this.eventIndex,
            message: verdict,
            node: slot.id
          },
          "violation"
        );
      }
    }
  }
  observersOf(type) {
    let observers = this.observersByType.get(type);
    if (observers === void 0) {
      assert(this.observersByType.size < OBSERVATION_TYPES_MAX, "too many observation types");
      observers = this.observers.filter(
        (invariant) => invariant.observes === void 0 || invariant.observes.includes(type)
      );
      this.observersByType.set(type, observers);
    }
    return observers;
  }
  checkSometimes(record2) {
    const pending = this.sometimesPending;
    for (let index = pending.length - 1; index >= 0; index--) {
      const [name, reached] = pending[index];
      if (reached(record2)) {
        this.sometimesReached.add(name);
        pending.splice(index, 1);
      }
    }
  }
  checkAtEnd() {
    for (const invariant of this.invariants) {
      if (invariant.atEnd === void 0) {
        continue;
      }
      const verdict = invariant.atEnd(this.view, this.observations);
      if (typeof verdict === "object") {
        this.undecided.push({ invariant: invariant.name, reason: verdict.undecided });
      } else if (verdict !== void 0) {
        this.report(
          {
            invariant: invariant.name,
            timeUs: this.nowUs,
            eventIndex: this.eventIndex,
            message: verdict
          },
          "violation"
        );
      }
    }
  }
  invoke(slot, input, options) {
    const operation = {
      id: this.history.length,
      client: slot.id,
      input,
      callUs: this.nowUs
    };
    if (options?.stream !== void 0) {
      operation.stream = options.stream;
    }
    this.history.push(operation);
    this.stats.operations++;
    this.trace?.invoke(this, operation);
    return operation.id;
  }
  complete(slot, operationId, status, output) {
    const operation = this.history[operationId];
    if (operation === void 0) {
      fail(`no operation ${operationId}`);
    }
    assert(operation.client === slot.id, "an operation completes on the client that invoked it");
    if (operation.returnUs !== void 0) {
      fail(`operation ${operationId} completed twice`);
    }
    operation.returnUs = this.nowUs;
    operation.status = status;
    operation.output = output;
    this.trace?.complete(this, operation);
  }
  buggify(slot, label) {
    const probability2 = this.plan.knobs.buggifyProbability;
    if (probability2 === 0 || this.phase === "settle") {
      return false;
    }
    let active = this.buggifyActive.get(label);
    if (active === void 0) {
      active = this.buggifyRandom.chance(0.25);
      this.buggifyActive.set(label, active);
    }
    if (active && slot.random.chance(probability2)) {
      this.fired("buggify");
      return true;
    }
    return false;
  }
  log(slot, message, fields) {
    if (this.logger.enabled) {
      this.logger.write(this.nowUs, slot.name, message, fields);
    }
    this.trace?.log(this, slot.id, message, fields);
  }
  makeView() {
    const simulation = this;
    const topology = this.topology;
    return {
      servers: topology.servers,
      clients: topology.clients,
      groups: topology.groups,
      members: (group) => topology.members(group),
      groupOf: (node) => topology.groupOf(node),
      get timeUs() {
        return simulation.nowUs;
      },
      get phase() {
        return simulation.phase;
      },
      isUp: (node) => simulation.nodes[node].up,
      inspect: (node) => {
        const slot = simulation.nodes[node];
        return slot.up ? slot.program?.inspect?.() : void 0;
      },
      name: (node) => node === FROM_HARNESS ? "harness" : simulation.nodes[node].name,
      history: this.history,
      get messagesSent() {
        return simulation.stats.messagesSent;
      },
      get bytesSent() {
        return simulation.stats.bytesSent;
      },
      fileSize: (node, file) => simulation.nodes[node].disk.size(file),
      mediaFaults: (node) => simulation.nodes[node].disk.mediaFaults(),
      storedDamage: (node) => simulation.nodes[node].disk.storedDamage(),
      durableFile: (node, file) => simulation.nodes[node].disk.durableImage(file)
    };
  }
  result() {
    this.stats.events = this.eventIndex;
    this.stats.virtualTimeUs = this.nowUs;
    const linkBytes = {};
    const size = this.nodes.length;
    for (let from2 = 0; from2 < size; from2++) {
      for (let to = 0; to < size; to++) {
        const bytes = this.network.stats.bytes[from2 * size + to];
        if (bytes > 0) {
          linkBytes[`${this.nodes[from2].name}->${this.nodes[to].name}`] = bytes;
        }
      }
    }
    if (this.network.tailHits > 0) {
      this.faultsFired["latency-tail"] = this.network.tailHits;
    }
    const corrupted = this.nodes.reduce((sum, slot) => sum + slot.disk.stats.corruptedReads, 0);
    if (corrupted > 0) {
      this.faultsFired["read-corruption"] = corrupted;
    }
    const result = {
      outcome: this.outcome,
      traceHash: this.hash.hex(),
      checkpoints: this.checkpoints,
      stats: this.stats,
      faultsFired: this.faultsFired,
      partitionShapes: this.partitionShapes,
      sometimes: [...this.sometimesReached].sort(),
      undecided: this.undecided,
      linkBytes,
      history: this.history
    };
    if (this.violation !== void 0) {
      result.violation = this.violation;
    }
    const shape = planShape(this.scenario.shape, this.plan);
    if (shape !== void 0) {
      result.shape = shape;
    }
    return result;
  }
};
var SimContext = class {
  constructor(simulation, slot) {
    this.simulation = simulation;
    this.slot = slot;
    const plan = simulation.plan;
    this.id = slot.id;
    this.name = slot.name;
    this.group = slot.group;
    this.servers = simulation.topology.servers;
    this.clients = simulation.topology.clients;
    this.workload = plan.workload;
    this.variant = plan.variant;
    this.random = slot.random.fork(`incarnation:${slot.incarnation}`);
    this.disk = slot.disk;
    this.history = {
      invoke: (input, options) => simulation.invoke(slot, input, options),
      complete: (operationId, status, output) => simulation.complete(slot, operationId, status, output)
    };
  }
  simulation;
  slot;
  dead = false;
  id;
  name;
  group;
  servers;
  clients;
  workload;
  variant;
  random;
  disk;
  history;
  members(group) {
    return this.simulation.topology.members(group);
  }
  alive() {
    if (this.dead) {
      fail(`${this.name} used its context after it crashed`);
    }
  }
  now() {
    return this.slot.localTimeUs(this.simulation.nowUs);
  }
  monotonic() {
    return this.slot.monotonicTimeUs(this.simulation.nowUs);
  }
  phase() {
    return this.simulation.phase;
  }
  send(to, message, sizeBytes = 64) {
    this.alive();
    this.simulation.send(this.slot, to, message, sizeBytes);
  }
  setTimer(delayUs, tag) {
    this.alive();
    return this.simulation.setTimer(this.slot, delayUs, tag);
  }
  cancelTimer(timerId) {
    this.slot.liveTimers.delete(timerId);
  }
  log(message, fields) {
    this.simulation.log(this.slot, message, fields);
  }
  observe(observation) {
    this.alive();
    this.simulation.observe(this.slot, observation);
  }
  buggify(label) {
    return this.simulation.buggify(this.slot, label);
  }
};

// sim/run.ts
var UnknownScenarioError = class extends Error {
  name = "UnknownScenarioError";
};
function scenarioNamed(name) {
  const scenario2 = findScenario(name);
  if (scenario2 === void 0) {
    throw new UnknownScenarioError(
      `there is no scenario named ${JSON.stringify(name)}; \`faultline list\` shows them`
    );
  }
  return scenario2;
}
function checkVariant(scenario2, variant) {
  if (variant !== null && resolveVariant(scenario2, variant) === void 0) {
    const known = Object.keys(scenario2.variants).join(", ") || "none";
    throw new UnknownScenarioError(
      `scenario ${scenario2.name} has no variant ${JSON.stringify(variant)} (known: ${known})`
    );
  }
}
function checkPins(scenario2, pins2) {
  const problem = pinProblem(scenario2.shape, pins2);
  if (problem !== void 0) {
    throw new UnknownScenarioError(`scenario ${scenario2.name}: ${problem}`);
  }
}
function runSeed(scenarioName, seed, variant = null, options = {}, pins2 = {}) {
  const scenario2 = scenarioNamed(scenarioName);
  checkVariant(scenario2, variant);
  checkPins(scenario2, pins2);
  const plan = planFor(scenario2, seed, variant, pins2);
  return { plan, result: new Simulation(scenario2, plan, options).run() };
}

// bench/raft-seeds.ts
var [scenario = "raft", fromText = "0", countText = "10", ...pinItems] = process.argv.slice(2);
var from = Number(fromText);
var count = Number(countText);
var pins = parsePins(pinItems);
if (typeof pins === "string") {
  process.stderr.write(`${pins}
`);
  process.exit(2);
}
var events = 0;
var failed = 0;
var hashes = [];
var start = process.cpuUsage();
for (let seed = from; seed < from + count; seed++) {
  const { result } = runSeed(scenario, seed, null, {}, pins);
  events += result.stats.events;
  failed += result.outcome === "pass" ? 0 : 1;
  hashes.push(result.traceHash.slice(0, 8));
}
var used = process.cpuUsage(start);
var cpuSec = (used.user + used.system) / 1e6;
process.stdout.write(
  `${JSON.stringify({
    scenario,
    from,
    count,
    pins,
    failed,
    events,
    eventsPerSeed: Math.round(events / count),
    cpuSec: Number(cpuSec.toFixed(2)),
    seedsPerCpuSec: Number((count / cpuSec).toFixed(2)),
    eventsPerCpuSec: Math.round(events / cpuSec),
    hashes: hashes.join(",")
  })}
`
);
