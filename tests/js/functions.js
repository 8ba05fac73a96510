/*
 * Stateful functions written with the official StateFun JavaScript SDK (apache-flink-statefun 3.3.0),
 * served the way the playground's javascript greeter serves them. Used by tests/runtime/test_js_sdk.py.
 *
 * Usage: node functions.js [port]   (or PORT=...; default 0 = any free port)
 * Prints exactly one line "listening <port>" on stdout once the server accepts connections.
 */
"use strict";

const http = require("http");
const { StateFun, messageBuilder, egressMessageBuilder } = require("apache-flink-statefun");

const GreetRequest = StateFun.jsonType("example/GreetRequest");
const Json = StateFun.jsonType("example/Json");
const EgressRecord = StateFun.jsonType("io.statefun.playground/EgressRecord");

/** Send a playground egress record; non-string payloads are JSON-encoded. */
function emit(context, topic, payload) {
  context.send(
    egressMessageBuilder({
      typename: "io.statefun.playground/egress",
      value: { topic, payload: typeof payload === "string" ? payload : JSON.stringify(payload) },
      valueType: EgressRecord,
    })
  );
}

function addressText(address) {
  return address === null ? null : `${address.namespace}/${address.name}/${address.id}`;
}

const statefun = new StateFun();

// ---------------------------------------------------------------------------------------------
// Greeter flow: example/person counts visits, example/greeter egresses the greeting.
// ---------------------------------------------------------------------------------------------

statefun.bind({
  typename: "example/person",
  specs: [{ name: "visits", type: StateFun.intType() }],
  fn(context, message) {
    const request = message.as(GreetRequest);
    const previous = context.storage.visits; // null before the first write (has_value = false)
    const visits = (previous ?? 0) + 1;
    context.storage.visits = visits;
    context.send(
      messageBuilder({
        typename: "example/greeter",
        id: request.name,
        value: { name: request.name, visits, previous },
        valueType: GreetRequest,
      })
    );
  },
});

statefun.bind({
  typename: "example/greeter",
  fn(context, message) {
    const { name, visits, previous } = message.as(GreetRequest);
    emit(context, "greetings", {
      greeting: `Hello ${name}, I have seen you ${visits} time(s)`,
      name,
      visits,
      previous,
      caller: addressText(context.caller),
      self: addressText(context.self),
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Delayed messages: example/scheduler schedules / cancels, example/sink egresses what arrives.
// ---------------------------------------------------------------------------------------------

statefun.bind({
  typename: "example/scheduler",
  fn(context, message) {
    const command = message.as(Json);
    if (command.op === "schedule") {
      const delayed = messageBuilder({
        typename: "example/sink",
        id: context.self.id,
        value: { label: command.label, ms: command.ms, scheduledAt: Date.now() },
        valueType: Json,
      });
      context.sendAfter(command.ms, delayed, command.token); // token may be undefined
    } else if (command.op === "cancel") {
      context.cancelDelayedMessage(command.token);
    } else {
      throw new Error(`unknown op ${command.op}`);
    }
  },
});

statefun.bind({
  typename: "example/sink",
  fn(context, message) {
    const { label, ms, scheduledAt } = message.as(Json);
    emit(context, "out", {
      label,
      ms,
      elapsed: Date.now() - scheduledAt,
      caller: addressText(context.caller),
    });
  },
});

// ---------------------------------------------------------------------------------------------

const port = Number.parseInt(process.argv[2] ?? process.env.PORT ?? "0", 10);
const server = http.createServer(statefun.handler());
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
