"""The edge where decisions become words: facts said for a reader, in their language.

`Presenter` says facts (`remedy.facts`) with the gettext catalogs of `remedy.i18n`;
`present_decision` makes a stored decision into the answer one reader reads. Nothing below this
package (the pipeline, the ledger, the services that decide) makes text for people.
"""

from remedy.i18n import LANGUAGES, catalog_for
from remedy.presenting.decisions import Reader, present_decision, presenters
from remedy.presenting.presenter import Presenter

__all__ = ["LANGUAGES", "Presenter", "catalog_for", "Reader", "present_decision", "presenters"]
