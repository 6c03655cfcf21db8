// Plans as compact cards, shared by the agent page and the panel: what to do (fix and extras,
// by their labels), the cost, whether finance must approve, when to reply; Accept (once, with
// its result beside the plan) and Copy talking points. Model numbers, reasons and rules sit
// behind a disclosure. After an accept that needs approval, the decision is polled until its
// approver (a team lead or finance, by the caps' tiers) answers, and the answer, who gave it and
// why are shown beside the plan.
import { api, describeError, el, money, table } from "./api.js";

const FIX_KINDS = new Set(["refund", "credit", "replacement"]);
const POLL_MS = 2000;
const POLL_SLOW_MS = 10000;
const POLL_FAST_TRIES = 30;

// ISO 8601 durations the talking points use (PT4H, P1D, PT30M): milliseconds and words.
function durationParts(iso) {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso || "");
  if (!match) return null;
  const [, days, hours, minutes] = match.map((part) => (part === undefined ? undefined : Number(part)));
  return { days: days || 0, hours: hours || 0, minutes: minutes || 0 };
}

export function duration(iso) {
  const parts = durationParts(iso);
  if (!parts) return iso;
  const words = [];
  for (const [unit, count] of Object.entries(parts)) {
    if (count) words.push(`${count} ${count === 1 ? unit.slice(0, -1) : unit}`);
  }
  return words.join(" ") || iso;
}

// When the agent must have answered: the decision's time plus the plan's respond_within.
export function respondBy(createdAt, iso) {
  const parts = durationParts(iso);
  const start = Date.parse(createdAt);
  if (!parts || Number.isNaN(start)) return null;
  const ms = ((parts.days * 24 + parts.hours) * 60 + parts.minutes) * 60000;
  return new Date(start + ms);
}

function when(date) {
  const sameDay = date.toDateString() === new Date().toDateString();
  return date.toLocaleString(undefined, sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

// Labels the API gives: catalog item labels per language, rule descriptions. Read once per page;
// without them the cards fall back to the labels in the decision and to ids.
let labelsPromise = null;
export function loadLabels() {
  if (!labelsPromise) {
    labelsPromise = Promise.all([api("GET", "/v1/catalog"), api("GET", "/v1/rules")]).then(
      ([catalog, rules]) => ({
        items: Object.fromEntries(catalog.document.items.map((item) => [item.id, item.labels || {}])),
        rules: Object.fromEntries(rules.document.rules.map((rule) => [rule.id, rule.description])),
      }),
      () => {
        labelsPromise = null; // try again with the next decision
        return { items: {}, rules: {} };
      });
  }
  return labelsPromise;
}

export function labeller(decision, labels) {
  const language = ((decision.plans[0] || {}).talking_points || {}).language
    || String((decision.incident || {}).locale || "en").slice(0, 2);
  const fromPlans = {};
  for (const plan of decision.plans) for (const a of plan.actions) fromPlans[a.item_id] = a.label;
  const item = (id) => {
    const known = (labels.items || {})[id] || {};
    // "pt-BR" reads a label given for "pt-BR", else one given for the whole language ("pt")
    return fromPlans[id] || known[language] || known[language.split("-")[0]] || known.en
      || id.replaceAll("_", " ");
  };
  return {
    item,
    plan: (planId) => planId.split("+").map(item).join(" + "),
    rule: (id) => (labels.rules || {})[id] || id,
  };
}

const CAP_TERMS = {
  absolute: "the absolute cap",
  loss_multiple: "a multiple of the loss",
  value_share: "a share of the customer's annual value",
};
export function capTerm(term) {
  return CAP_TERMS[term] || term.replaceAll("_", " ");
}

function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

// Why no plan can be offered, in plain words: the limits that left the top plans out, and the
// notes that say every plan failed.
export function blockers(decision) {
  const reasons = [];
  const add = (text) => {
    const plain = sentence(text.replace(/^no longer fits: /, "")
      .replace(/^no (\w+) contact is left today \((\d+) of (\d+) taken\)$/,
        "no $1 call is left today: all $3 are taken ($2 of $3)"));
    if (!reasons.includes(plain)) reasons.push(plain);
  };
  for (const dropped of decision.dropped) add(dropped.reason);
  for (const note of decision.notes) {
    if (/^(no plan can meet|every plan costs more|no budget pool)/.test(note)) add(note);
  }
  return reasons;
}

function factList(rows) {
  return el("dl", { class: "card-facts" }, rows.filter(Boolean).flatMap(([name, value, cls]) =>
    [el("dt", { text: name }), el("dd", { class: cls || null }, value)]));
}

// A 409 from accept in words: which limit would break, or what state the decision is in.
function explainConflict(error) {
  const errors = error.errors || {};
  if (errors.limit) {
    return { closed: false, lead: "Not accepted: the plan does not fit the budget.", lines: errors.limit };
  }
  if (errors.status) {
    const lines = errors.status.map((message) => {
      const match = /is (\w+); (\w+) needs it to be (.+)$/.exec(message);
      if (!match) return message;
      const [, state, action, wanted] = match;
      return `This decision is already ${state.replaceAll("_", " ")}, so it cannot be ${action}ed again ` +
        `(${action} works only on a ${wanted.replaceAll("_", " ")} decision).`;
    });
    return { closed: true, lead: "Not accepted: the decision was already acted on.", lines };
  }
  return { closed: false, lead: "Not accepted: it conflicts with the current state.", lines: [error.message] };
}

// Who approves, as the agent reads it: a lead or finance (a plan stored before tiers: finance).
function approverName(role) {
  return { lead: "A team lead", admin: "An admin" }[role] || "Finance";
}

function approverPossessive(role) {
  return role === "lead" ? "a team lead's" : "finance's";
}

function box(kind, lead, ...rest) {
  return el("div", { class: kind }, el("p", {}, el("strong", { text: lead }), ...rest));
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // In a frame without clipboard permission: the old way, through a selected text area.
    const area = el("textarea", { class: "offscreen", "aria-hidden": "true", tabindex: "-1" });
    area.value = text;
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

// Render `decision` into `container` (an aria-live region). `onEvent` hears
// {type: "accepted" | "approval", decision_id, plan_id, status}. Returns {stop()}, which ends
// approval polling; call it before showing another decision.
export function renderPlans(container, decision, labels, onEvent = () => {}, options = {}) {
  const names = labeller(decision, labels);
  // `options.money(amount, currency)` formats money (the panel: Intl in the customer's locale,
  // the one format its talking points use); `options.insert(plan, talking)` asks a host to put
  // the talking points into its reply and resolves to a line saying what happened.
  const fmt = options.money || money;
  const amount = (value, currency) => el("span", { class: "money" }, fmt(value, currency));
  const state = { busy: false, closed: false, stopped: false, timer: null, buttons: [] };
  const setEnabled = (enabled) => {
    for (const button of state.buttons) button.disabled = !enabled || state.closed;
  };
  const ticket = (decision.incident || {}).external_id;
  const children = [];
  if (!decision.plans.length) {
    const reasons = blockers(decision);
    children.push(el("div", { class: "blocker" },
      el("p", {}, el("strong", { text: "No plan can be offered." }),
        reasons.length ? "" : " See the notes below."),
      reasons.length ? el("ul", {}, reasons.map((r) => el("li", { text: r }))) : null));
  } else {
    children.push(el("p", { class: "plans-summary" },
      `${decision.plans.length} plan${decision.plans.length === 1 ? "" : "s"}, best first` +
      (ticket ? ` for ticket ${ticket}` : "") + "."));
  }

  decision.plans.forEach((plan, index) => {
    const number = index + 1;
    const c = plan.currency;
    const headingId = `plan-${number}-heading`;
    const apology = plan.actions.filter((a) => a.kind === "apology");
    const fixes = plan.actions.filter((a) => FIX_KINDS.has(a.kind));
    const extras = plan.actions.filter((a) => a.kind !== "apology" && !FIX_KINDS.has(a.kind));
    const talking = plan.talking_points;
    // The answer is due counted from when the customer complained (respond_by); decisions
    // stored before it count from the decision's time.
    const deadline = !talking ? null : talking.respond_by
      ? new Date(talking.respond_by) : respondBy(decision.created_at, talking.respond_within);
    const overdue = deadline && deadline.getTime() < Date.parse(decision.created_at) ? ", overdue" : "";
    const result = el("div", { class: "card-result", role: "status", tabindex: "-1" });
    const acceptButton = el("button", { type: "button", class: "accept", "aria-keyshortcuts": "Alt+A" },
      `Accept plan ${number}`);
    const copyButton = talking && !options.insert
      ? el("button", { type: "button", class: "secondary copy" }, "Copy talking points") : null;
    const insertButton = talking && options.insert
      ? el("button", { type: "button", class: "secondary insert", "aria-keyshortcuts": "Alt+I" },
        "Insert", el("span", { class: "visually-hidden" }, ` talking points of plan ${number}`)) : null;
    state.buttons.push(acceptButton);

    const card = el("article", { class: "plan", tabindex: "-1", "aria-labelledby": headingId,
      "data-plan-id": plan.plan_id,
      "data-decision-id": decision.decision_id },
      el("h3", { id: headingId }, `Plan ${number}`,
        plan.requires_approval ? [" ", el("span", { class: "badge warn" }, "needs approval")] : null),
      // Offered only because a limit blocked every other plan: say which, who lifts it, how.
      plan.blocked_by ? el("p", { class: "blocker", "data-blocked-by": plan.blocked_by.limit },
        el("strong", { text: "Only this can be offered now. " }), plan.blocked_by.how) : null,
      factList([
        fixes.length || apology.length
          ? ["Fix", [...apology, ...fixes].map((a) => a.label).join(" + ")] : null,
        extras.length ? ["Extra", extras.map((a) => a.label).join(" + ")] : null,
        ["Cost", fmt(plan.total_cost, c), "money cost"],
        ["Approval", plan.requires_approval ? `${approverName(plan.approver)} must approve before anything is given` : "Not needed"],
        deadline ? ["Reply by", `${when(deadline)} (within ${duration(talking.respond_within)}${overdue})`] : null,
      ]),
      el("div", { class: "card-actions" }, acceptButton, insertButton, copyButton),
      result,
      talking ? el("details", { class: "talking" },
        el("summary", {}, `Talking points (${talking.points.length})`),
        el("ol", { lang: talking.language }, talking.points.map((point) => el("li", { text: point })))) : null,
      el("details", { class: "why" },
        el("summary", {}, "Details: value, numbers, reasons"),
        table(["Action", "Value to customer", "Cost to us"], plan.actions.map((a) => el("tr", {},
          el("td", {}, a.label, a.requires_approval ? el("span", { class: "badge" }, "needs approval") : null),
          el("td", { class: "num money", text: fmt(a.value, c) }),
          el("td", { class: "num money", text: fmt(a.cost, c) }))), `Actions of plan ${number}`),
        factList([
          ["Value to customer", fmt(plan.total_value, c), "money"],
          ["Expected net value", fmt(plan.expected_net_value, c), "money"],
          ["Chance the customer stays", `${(Number(plan.p_stay) * 100).toFixed(1)}%`],
          ["Expected referrals", Number(plan.expected_referrals).toFixed(2)],
        ]),
        el("h4", { text: "Why" }),
        el("ul", { class: "reasons" }, plan.reasons.map((reason) => el("li", { text: reason }))),
        plan.rules.length ? el("h4", { text: "Rules that applied" }) : null,
        plan.rules.length ? el("ul", { class: "rules" }, plan.rules.map((id) =>
          el("li", {}, names.rule(id), el("span", { class: "muted small" }, ` (${id})`)))) : null));

    acceptButton.addEventListener("click", () => accept(plan, number, acceptButton, result));
    if (insertButton) {
      insertButton.addEventListener("click", async () => {
        result.replaceChildren(el("p", { class: "muted small" }, `Inserting plan ${number}'s talking points…`));
        const said = await options.insert(plan, talking);
        result.replaceChildren(el("p", { class: "small" }, said));
        result.focus();
      });
    }
    if (copyButton) {
      copyButton.addEventListener("click", async () => {
        const copied = await copyText(talking.points.join("\n"));
        result.replaceChildren(copied
          ? el("p", { class: "muted small" }, `Talking points of plan ${number} copied.`)
          : el("p", { class: "muted small" }, "Could not copy: open Talking points and select them."));
      });
    }
    children.push(card);
  });

  async function accept(plan, number, button, result) {
    if (state.busy || state.closed) return; // a second click while the first is in flight
    state.busy = true;
    setEnabled(false);
    const label = button.textContent;
    button.textContent = "Accepting…";
    result.replaceChildren(el("p", {}, `Accepting plan ${number}…`));
    try {
      const answer = await api("POST", `/v1/decisions/${encodeURIComponent(decision.decision_id)}/accept`,
        { plan_id: plan.plan_id }, undefined,
        { "Idempotency-Key": `console:${decision.decision_id}:${plan.plan_id}` });
      state.closed = true;
      const c = answer.currency;
      if (answer.status === "pending_approval") {
        button.textContent = "Sent for approval";
        const approver = approverName(plan.approver);
        result.replaceChildren(box("ok", `Plan ${number} sent for approval`,
          " (", amount(answer.total_cost, c), `). ${approver} must approve it before anything is reserved.`),
        el("p", { class: "approval", text: `Waiting for ${approverPossessive(plan.approver)} answer…` }));
        poll(plan, number, result.querySelector(".approval"));
      } else if (answer.status === "reserved") {
        const r = answer.reservation;
        button.textContent = "Accepted";
        const until = new Date(r.expires_at);
        result.replaceChildren(box("ok", `Plan ${number} accepted: reserved`,
          " ", amount(r.reserved, c), ` from pool ${r.pool}, until ` +
          `${Number.isNaN(until.getTime()) ? r.expires_at : when(until)}.`));
      } else {
        button.textContent = "Accepted";
        result.replaceChildren(box("ok", `Plan ${number}: the decision is now ${answer.status.replaceAll("_", " ")}.`));
      }
      onEvent({ type: "accepted", decision_id: decision.decision_id, plan_id: plan.plan_id, status: answer.status,
        plan_label: names.plan(plan.plan_id), total_cost: fmt(answer.total_cost ?? plan.total_cost, plan.currency) });
    } catch (error) {
      button.textContent = label;
      if (error.status === 409) {
        const { closed, lead, lines } = explainConflict(error);
        state.closed = closed;
        result.replaceChildren(el("div", { class: "error", role: "alert" },
          el("p", {}, el("strong", { text: lead }), " (409 Conflict)"),
          el("ul", {}, lines.map((line) => el("li", { text: line })))));
      } else {
        const { status, lines } = describeError(error);
        result.replaceChildren(el("div", { class: "error", role: "alert" },
          el("p", {}, el("strong", { text: "Not accepted" }), status ? ` (${status})` : ""),
          el("ul", {}, lines.map((line) => el("li", { text: line })))));
      }
    } finally {
      state.busy = false;
      setEnabled(!state.closed);
      result.focus(); // the answer, not <body>, is where the agent reads on
    }
  }

  function poll(plan, number, line, tries = 0) {
    if (state.stopped) return;
    state.timer = setTimeout(async () => {
      if (state.stopped) return;
      let current;
      try {
        current = await api("GET", `/v1/decisions/${encodeURIComponent(decision.decision_id)}`);
      } catch (error) {
        if ([401, 403, 404].includes(error.status)) {
          line.textContent = `Could not check the approval: ${describeError(error).lines.join(" ")}`;
          return;
        }
        line.textContent = `Could not check the approval just now (${error.message}); trying again.`;
        poll(plan, number, line, tries + 1);
        return;
      }
      if (state.stopped) return;
      const approval = current.approval || {};
      if (current.status === "pending_approval") {
        const checked = `last checked ${new Date().toLocaleTimeString()}`;
        line.textContent = approval.escalated
          ? `Escalated to finance: no team lead answered in time. Waiting for finance's answer (${checked}).`
          : `Waiting for ${approverPossessive(approval.tier || plan.approver)} answer (${checked}).`;
        poll(plan, number, line, tries + 1);
        return;
      }
      const approved = ["reserved", "fulfilled"].includes(current.status);
      const decider = approverName(approval.decided_role);
      const why = approval.reason ? el("span", {}, " Reason given: ", el("q", { text: approval.reason }), ".") : null;
      line.replaceWith(approved
        ? box("ok approval-result", `Approved: plan ${number} is reserved.`,
          ` ${decider} approved it. Go ahead with the customer.`, why)
        : box("error approval-result", current.status === "rejected"
          ? `${decider} rejected plan ${number}.` : `The decision is now ${current.status.replaceAll("_", " ")}.`,
        " Get plans again to offer something else.", why));
      onEvent({ type: "approval", decision_id: decision.decision_id, plan_id: plan.plan_id, status: current.status,
        plan_label: names.plan(plan.plan_id),
        decided_role: approval.decided_role || null, reason: approval.reason || null });
    }, tries < POLL_FAST_TRIES ? POLL_MS : POLL_SLOW_MS);
  }

  container.replaceChildren(...children);
  container.removeAttribute("aria-busy");
  return {
    stop() {
      state.stopped = true;
      clearTimeout(state.timer);
    },
  };
}

// While a new recommendation loads: the old plans go (none can be accepted by mistake).
export function showLoading(container, text = "Getting plans…") {
  container.setAttribute("aria-busy", "true");
  container.replaceChildren(el("p", { class: "loading", text }));
}
