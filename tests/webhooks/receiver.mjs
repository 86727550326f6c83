// The webhook receiver of tests/webhooks: an HTTPS server on 127.0.0.1
// (the test certificate) that checks every delivery's signature with the
// standardwebhooks package and reports each one as a JSON line on stdout.
//
//   node receiver.mjs CERT KEY [PORT]
//
// Prints {"listening": PORT} first. Reads JSON lines on stdin:
// {"secret": {"/path": "whsec_..."}} registers an endpoint's secret.
// What a path answers depends on its first segment:
//   /ok...     200
//   /fail2...  500 to the first two deliveries of each webhook-id, then 200
//   /gone...   410
//   /slow...   holds the request 20 s, then 200 (reports "inflight" when it
//              arrives and "closed" when the client gives up)
// A delivery whose signature does not verify is answered 400. Each
// delivery is reported as {"kind": "delivery", path, id, timestamp,
// verified, error, type, data, answered}.
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { createInterface } from "node:readline";
import { Webhook } from "standardwebhooks";

const [cert, key, port] = process.argv.slice(2);
const secrets = new Map();
const failures = new Map();

function report(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const msg = JSON.parse(line);
  for (const [path, secret] of Object.entries(msg.secret || {})) secrets.set(path, secret);
  report({ kind: "ack" });
});

const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const path = req.url;
    const id = req.headers["webhook-id"];
    const entry = {
      kind: "delivery", path, id, timestamp: req.headers["webhook-timestamp"],
      method: req.method, verified: false, error: null, type: null, data: null,
    };
    const secret = secrets.get(path);
    try {
      if (!secret) throw new Error("no secret registered for " + path);
      const payload = new Webhook(secret).verify(body, req.headers);
      entry.verified = true;
      entry.type = payload.type;
      entry.data = payload.data;
      entry.event_timestamp = payload.timestamp;
    } catch (e) {
      entry.error = String(e && e.message ? e.message : e);
    }
    let status = 200;
    if (!entry.verified) status = 400;
    else if (path.startsWith("/fail2")) {
      const n = (failures.get(id) || 0) + 1;
      failures.set(id, n);
      status = n <= 2 ? 500 : 200;
    } else if (path.startsWith("/gone")) status = 410;
    entry.answered = status;
    if (path.startsWith("/slow") && entry.verified) {
      report({ kind: "inflight", path, id });
      const timer = setTimeout(() => {
        report({ ...entry, answered: 200 });
        res.writeHead(200).end("ok");
      }, 20000);
      res.on("close", () => {
        clearTimeout(timer);
        report({ kind: "closed", path, id });
      });
      return;
    }
    report(entry);
    res.writeHead(status, { "Content-Type": "text/plain" }).end(status === 200 ? "ok" : "no");
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(port || 0), "127.0.0.1", () => report({ listening: server.address().port }));
