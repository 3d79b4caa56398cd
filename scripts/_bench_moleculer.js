// The Moleculer baseline of `bench.py rpc` (see scripts/_bench_moleculer.py, which runs it).
//
//   node _bench_moleculer.js server NATS_URL   -- a broker serving the action bench_echo.echo
//   node _bench_moleculer.js caller NATS_URL PAYLOAD_JSON   -- a broker calling it with PAYLOAD
//
// Both speak the protocol of scripts/_bench_common.py's Worker: one JSON object per line on
// stdout (the first says ready), commands as JSON lines on stdin, {"op": "quit"} or EOF to stop.
// Moleculer and nats come from NODE_PATH (the bench's npm cache folder).
"use strict";

const readline = require("readline");
const { ServiceBroker } = require("moleculer");

const [role, url, payloadJson] = process.argv.slice(2);
const SERVICE = "bench_echo";

function reply(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function makeBroker(nodeID) {
  // Default settings (JSON serializer, round-robin balancer), logs and extras off, as a team
  // adopting Moleculer would run it.
  return new ServiceBroker({
    nodeID: `${nodeID}-${process.pid}`,
    transporter: url,
    logger: false,
    metrics: false,
    tracing: false,
  });
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function callerOps(broker, payload) {
  const call = (seq) => broker.call(`${SERVICE}.echo`, { payload: { ...payload, seq } });

  return {
    async wait_ready() {
      await broker.waitForServices([SERVICE], 60000);
      return { ready: true };
    },

    async sequential({ count }) {
      const latencies = new Array(count);
      const started = process.hrtime.bigint();
      for (let seq = 0; seq < count; seq++) {
        const sent = process.hrtime.bigint();
        const answer = await call(seq);
        if (answer.seq !== seq) throw new Error(`answer ${answer.seq} for call ${seq}`);
        latencies[seq] = Number(process.hrtime.bigint() - sent);
      }
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      latencies.sort((a, b) => a - b);
      return {
        calls: count,
        elapsed_s: elapsed,
        calls_per_s: count / elapsed,
        p50_ms: percentile(latencies, 0.5) / 1e6,
        p99_ms: percentile(latencies, 0.99) / 1e6,
      };
    },

    async concurrent({ count, in_flight }) {
      const perLane = Math.floor(count / in_flight);
      const lane = async (id) => {
        for (let seq = id * perLane; seq < (id + 1) * perLane; seq++) {
          await call(seq);
        }
      };
      const started = process.hrtime.bigint();
      await Promise.all(Array.from({ length: in_flight }, (_, id) => lane(id)));
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const done = perLane * in_flight;
      return { calls: done, elapsed_s: elapsed, calls_per_s: done / elapsed };
    },
  };
}

async function main() {
  const broker = makeBroker(`bench-${role}`);
  let ops = {};
  if (role === "server") {
    broker.createService({
      name: SERVICE,
      actions: {
        echo(ctx) {
          return ctx.params.payload;
        },
      },
    });
  } else if (role === "caller") {
    ops = callerOps(broker, JSON.parse(payloadJson));
  } else {
    throw new Error(`unknown role ${role}`);
  }
  await broker.start();
  reply({ ready: `moleculer-${role}`, pid: process.pid });

  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = JSON.parse(line);
    const { op, ...args } = command;
    if (op === "quit") break;
    try {
      reply(await ops[op](args));
    } catch (error) {
      reply({ error: `${op}: ${error && error.message}` });
    }
  }
  await broker.stop();
  process.exit(0);
}

main().catch((error) => {
  reply({ error: `moleculer ${role}: ${error && error.stack}` });
  process.exit(1);
});
