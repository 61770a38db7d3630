// What the chaos suite knows about each provider's emulator: how to ask for a lease, which
// faults to inject where, how to seed resources that are not ours, and how to find what is
// left of ours (keys and Secrets included) once the run is over.

const FOREIGN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl someone-else";
const state = async (emu) => (await fetch(`${emu.url}/_emulator/state`)).json();
const post = async (url, body, headers = {}) => {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`seeding ${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
};
export const control = (emu, path, body) => post(`${emu.url}/_emulator${path}`, body);
/** Ours: a name, label or key that carries one of this run's lease ids. */
const carries = (text, ids) => typeof text === "string" && [...ids].some((id) => text.includes(id));

export const PROVIDERS = {
  lambda: {
    canStop: false,
    async prepare(emu) {
      await control(emu, "/config", { capacity: { "us-east-1": { gpu_1x_a10: 1000 } } });
    },
    async seed(emu) {
      const auth = { authorization: `Bearer ${emu.apiKey}` };
      await post(`${emu.apiBase}/ssh-keys`, { name: "someone-key", public_key: FOREIGN_KEY }, auth);
      const ids = [];
      for (const name of ["crabbox-otherdeploy-aaaaaaaaaaaa0001", "training-run"]) {
        const launched = await post(`${emu.apiBase}/instance-operations/launch`, { region_name: "us-west-1", instance_type_name: "gpu_1x_a10", ssh_key_names: ["someone-key"], name }, auth);
        ids.push(launched.data.instance_ids[0]);
      }
      return ids;
    },
    async audit(emu, ids, seeded) {
      const s = await state(emu);
      const live = s.instances.filter((i) => i.status !== "terminated");
      return {
        leftovers: [...live.filter((i) => carries(i.name, ids)).map((i) => `instance ${i.id} (${i.name}, ${i.status})`), ...s.sshKeys.filter((k) => carries(k.name, ids)).map((k) => `ssh key ${k.name}`)],
        foreignTouched: seeded.filter((id) => !live.some((i) => i.id === id && i.status !== "terminating")).map((id) => `instance ${id}`),
        created: s.created,
      };
    },
    async faultTargets(emu) {
      const s = await state(emu);
      const items = s.instances.filter((i) => i.status !== "terminated").map((i) => `/api/v1/instances/${i.id}`);
      return { create: "/api/v1/instance-operations/launch", reads: ["/api/v1/instances", ...items], releases: ["/api/v1/instance-operations/terminate"] };
    },
    async preempt(emu, ids) {
      const s = await state(emu);
      const victim = s.instances.find((i) => i.status === "active" && carries(i.name, ids));
      if (victim) await control(emu, `/instances/${victim.id}/status`, { status: "preempted" }).catch(() => undefined);
    },
  },
  vast: {
    canStop: true,
    async prepare(emu) {
      const end = Math.floor(Date.now() / 1000) + 5 * 365 * 86_400;
      const offers = Array.from({ length: 80 }, (_, i) => ({ id: 3000 + i, machine_id: 70_000 + i, num_gpus: 1, gpu_name: "RTX 4090", dph_total: 0.3 + (i % 10) / 100, geolocation: "California, US", reliability: 0.995, direct_port_count: 24, end_date: end, verified: true, storage_cost: 0.1 }));
      await control(emu, "/config", { offers });
    },
    async seed(emu) {
      const auth = { authorization: `Bearer ${emu.apiKey}` };
      const ids = [];
      for (const [offer, label] of [[3078, "crabbox-otherdeploy-aaaaaaaaaaaa0002"], [3079, null]]) {
        const res = await fetch(`${emu.url}/api/v0/asks/${offer}/`, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ image: "someone/else", label, runtype: "ssh_direct", disk: 16 }) });
        const json = await res.json();
        if (!json.success) throw new Error(`seeding vast: ${JSON.stringify(json)}`);
        ids.push(String(json.new_contract));
      }
      return ids;
    },
    async audit(emu, ids, seeded) {
      const s = await state(emu);
      return {
        leftovers: s.instances.filter((i) => carries(i.label, ids)).map((i) => `instance ${i.id} (${i.label}, ${i.actual_status})`),
        foreignTouched: seeded.filter((id) => !s.instances.some((i) => String(i.id) === id)).map((id) => `instance ${id}`),
        created: s.created,
      };
    },
    async faultTargets(emu) {
      const s = await state(emu);
      return { create: null, reads: ["/api/v1/instances/", ...s.instances.map((i) => `/api/v0/instances/${i.id}/`)], releases: s.instances.map((i) => `/api/v0/instances/${i.id}/`) };
    },
  },
  fal: {
    canStop: false,
    async prepare() {},
    async seed(emu) {
      // Created outside the coordinator: fal instances carry no marker at all.
      const made = await post(`${emu.apiBase}/compute/instances`, { instance_type: "gpu_1x_h100_sxm5", ssh_key: FOREIGN_KEY }, { authorization: `Key ${emu.apiKey}` });
      return [made.id];
    },
    async audit(emu, _ids, seeded) {
      const s = await state(emu);
      const live = s.instances.filter((i) => !["terminated", "deleted"].includes(i.status));
      return {
        leftovers: live.filter((i) => !seeded.includes(i.id)).map((i) => `instance ${i.id} (${i.status})`),
        foreignTouched: seeded.filter((id) => !live.some((i) => i.id === id)).map((id) => `instance ${id}`),
        created: s.created.filter((c) => c.key),
      };
    },
    async faultTargets(emu) {
      const s = await state(emu);
      return { create: "/v1/compute/instances", reads: ["/v1/compute/instances", ...s.instances.map((i) => `/v1/compute/instances/${i.id}`)], releases: s.instances.map((i) => `/v1/compute/instances/${i.id}`) };
    },
  },
  coder: {
    canStop: true,
    async prepare() {},
    async seed(emu) {
      const headers = { "coder-session-token": emu.apiKey };
      const org = await (await fetch(`${emu.url}/api/v2/organizations/default`, { headers })).json();
      const template = await (await fetch(`${emu.url}/api/v2/organizations/${org.id}/templates/${emu.template}`, { headers })).json();
      const ids = [];
      for (const name of ["cb-0000000-aaaaaaaaaaaa0003", "someones-workspace"]) {
        ids.push((await post(`${emu.url}/api/v2/organizations/${org.id}/members/someone/workspaces`, { name, template_id: template.id }, headers)).id);
      }
      return ids;
    },
    async audit(emu, ids, seeded) {
      const s = await state(emu);
      return {
        leftovers: s.workspaces.filter((w) => carries(w.name, ids)).map((w) => `workspace ${w.name} (${w.latest_build.transition}:${w.latest_build.status})`),
        foreignTouched: seeded.filter((id) => !s.workspaces.some((w) => w.id === id && w.latest_build.transition === "start")).map((id) => `workspace ${id}`),
        created: s.created,
      };
    },
    async faultTargets(emu) {
      const s = await state(emu);
      return { create: null, reads: ["/api/v2/workspaces", ...s.workspaces.map((w) => `/api/v2/workspaces/${w.id}`)], releases: s.workspaces.map((w) => `/api/v2/workspaces/${w.id}/builds`) };
    },
  },
  sealos: {
    canStop: true,
    async prepare() {},
    async seed(emu) {
      const headers = { authorization: `Bearer ${emu.apiKey}` };
      const ids = [];
      const other = { "app.kubernetes.io/managed-by": "crabbox", "crabbox.dev/deployment": "0ther0de", "crabbox.dev/lease": "aaaaaaaaaaaa0005" };
      for (const [name, labels] of [["cb-0ther0d-aaaaaaaaaaaa0005", other], ["someones-devbox", undefined]]) {
        const made = await post(`${emu.url}/apis/devbox.sealos.io/v1alpha2/namespaces/${emu.namespace}/devboxes`, { apiVersion: "devbox.sealos.io/v1alpha2", kind: "Devbox", metadata: { name, labels }, spec: { state: "Running", resource: { cpu: "1" }, image: "someone/else", network: { type: "SSHGate" }, config: {} } }, headers);
        ids.push(made.metadata.name);
      }
      return ids;
    },
    async audit(emu, ids, seeded) {
      const s = await state(emu);
      return {
        leftovers: [
          ...s.devboxes.filter((d) => carries(d.metadata.labels?.["crabbox.dev/lease"], ids)).map((d) => `devbox ${d.metadata.name} (${d.status?.phase})`),
          ...s.secrets.filter((x) => carries(x.metadata.labels?.["crabbox.dev/lease"], ids) || carries(x.metadata.name, ids)).map((x) => `secret ${x.metadata.name}`),
        ],
        foreignTouched: seeded.filter((name) => !s.devboxes.some((d) => d.metadata.name === name && d.spec.state === "Running")).map((name) => `devbox ${name}`),
        created: s.created,
      };
    },
    async faultTargets(emu) {
      const s = await state(emu);
      const base = `/apis/devbox.sealos.io/v1alpha2/namespaces/${emu.namespace}/devboxes`;
      return { create: base, reads: [base, ...s.devboxes.map((d) => `${base}/${d.metadata.name}`)], releases: s.devboxes.map((d) => `${base}/${d.metadata.name}`) };
    },
  },
};
