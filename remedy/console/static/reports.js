// Reports page (a lead's, or finance's): spend, failures by cost, promises kept and the honesty
// audit, each table exportable as CSV (finance_reports.js draws them; a lead's key reads its
// own team's only). The promises said beside them come from the active caps.
import { api, startPage } from "./api.js";
import { setupReports } from "./finance_reports.js";

startPage("reports").then(async (who) => {
  if (!who) return;
  let promises = null;
  setupReports(() => promises);
  try {
    promises = (await api("GET", "/v1/caps")).document.promises || null;
  } catch {
    promises = null; // the reports still work; only the sentence naming the promises is left out
  }
});
