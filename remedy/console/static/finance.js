// Finance cockpit: pools by risk with their editor, caps with which override governs each
// slice and their editor, reports, and the what-if every change is one click from. Each part
// lives in its own module (finance_pools.js, finance_caps.js, finance_reports.js,
// finance_whatif.js); this one wires them together once the key's role is checked.
import { startPage } from "./api.js";
import { editPool, loadPools, setupPoolForm } from "./finance_pools.js";
import { loadCaps, setupCapsForm } from "./finance_caps.js";
import { setupReports } from "./finance_reports.js";
import { offerSweepPaths, setupWhatIf, whatIfProposal } from "./finance_whatif.js";

export { sweepValues } from "./finance_whatif.js";
export { showSuggestion } from "./finance_suggest.js";

let capsDocument = null;

function reloadPools() {
  return loadPools(editPool);
}

function reloadCaps() {
  return loadCaps((document_) => {
    capsDocument = document_;
    offerSweepPaths(document_);
  });
}

startPage("finance").then((who) => {
  if (!who) return;
  setupWhatIf();
  setupPoolForm(whatIfProposal, reloadPools);
  setupCapsForm(whatIfProposal, reloadCaps);
  setupReports(() => capsDocument && capsDocument.promises);
  reloadPools();
  reloadCaps();
});
