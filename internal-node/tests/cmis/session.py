"""A business application's session with cmislib 0.7 (Browser binding)
against a real passerelle-internal, as internal-node/tests/cmis.rs runs
it: browse, create a folder, upload typed and untyped documents, read and
update properties, check out and in a new version, query by type and by
content, delete; then what a reader and an outsider are refused.

Usage: session.py <base url> <login> <app password> <reader login>
<reader password> <outsider login> <outsider password>. Prints one line
per step and the created ids as JSON last; exits non-zero on the first
failure, saying which step.
"""

import io
import json
import sys
import time

from cmislib import CmisClient
from cmislib.browser.binding import BrowserBinding
from cmislib.exceptions import (
    ObjectNotFoundException,
    PermissionDeniedException,
)

base, login, password, reader, reader_pw, outsider, outsider_pw = sys.argv[1:8]
url = base + "/cmis/browser"


def step(name):
    print("step:", name, flush=True)


def repo_as(who, secret):
    client = CmisClient(url, who, secret, binding=BrowserBinding())
    return client.getDefaultRepository()


def until(what, check, seconds=60):
    """The index follows the repository a moment later: ask again."""
    deadline = time.time() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.time() > deadline:
            raise AssertionError("not found in time: " + what)
        time.sleep(0.3)


step("repository")
repo = repo_as(login, password)
info = repo.getRepositoryInfo()
assert info["cmisVersionSupported"] == "1.1", info
assert info["productName"] == "Passerelle", info

step("browse")
root = repo.getRootFolder()
spaces = {c.getName(): c for c in root.getChildren()}
assert "marches" in spaces, list(spaces)
space = spaces["marches"]
assert space.getPaths() == ["/marches"], space.getPaths()

step("types")
facture_type = repo.getTypeDefinition("passerelle:facture")
fields = facture_type.getProperties()
assert "passerelle:fournisseur" in fields, list(fields)
assert fields["passerelle:montant_ttc"].getPropertyType() == "decimal"
assert any(t.getTypeId() == "passerelle:facture" for t in repo.getTypeChildren("cmis:document"))

step("create folder")
folder = space.createFolder("Piscine 2026")
assert folder.getProperties()["cmis:path"] == "/marches/Piscine 2026"
assert folder.getParent().getObjectId() == space.getObjectId()

step("upload")
cctp = folder.createDocument(
    "CCTP piscine.txt",
    contentFile=io.BytesIO("Bassin olympique de 50 m, huit couloirs.".encode()),
    contentType="text/plain",
)
facture = folder.createDocument(
    "Facture F-2026-001.txt",
    properties={
        "cmis:objectTypeId": "passerelle:facture",
        "passerelle:numero": "F-2026-001",
        "passerelle:fournisseur": "BTP Rhône",
        "passerelle:montant_ttc": "12500.50",
        "passerelle:date_emission": "2026-03-01",
    },
    contentFile=io.BytesIO(b"Facture: terrassement du bassin."),
    contentType="text/plain",
)

step("read typed properties")
again = repo.getObjectByPath("/marches/Piscine 2026/Facture F-2026-001.txt")
props = again.getProperties()
assert props["cmis:objectTypeId"] == "passerelle:facture", props
assert props["passerelle:fournisseur"] == "BTP Rhône", props
assert props["passerelle:montant_ttc"] == 12500.5, props
assert props["passerelle:date_emission"].date().isoformat() == "2026-03-01", props
assert again.getContentStream().read() == b"Facture: terrassement du bassin."
assert [p for p in again.getPaths()] == ["/marches/Piscine 2026/Facture F-2026-001.txt"]

step("update a property")
facture.updateProperties({"passerelle:fournisseur": "BTP Rhône-Alpes"})
assert facture.getProperties()["passerelle:fournisseur"] == "BTP Rhône-Alpes"

step("check out, check in")
pwc = facture.checkout()
assert pwc.getProperties()["cmis:isPrivateWorkingCopy"] is True
assert facture.isCheckedOut()
assert facture.getCheckedOutBy() == login
v2 = pwc.checkin(
    checkinComment="avoir déduit",
    contentFile=io.BytesIO(b"Facture: terrassement du bassin, avoir deduit."),
    contentType="text/plain",
)
assert v2.getProperties()["cmis:versionLabel"] == "2", v2.getProperties()
assert not facture.isCheckedOut()
versions = [v.getProperties()["cmis:versionLabel"] for v in facture.getAllVersions()]
assert versions == ["2", "1"], versions
assert facture.getLatestVersion().getContentStream().read().endswith(b"avoir deduit.")

step("query by type")
rows = until(
    "the invoice by type and supplier",
    lambda: list(
        repo.query(
            "SELECT * FROM passerelle:facture "
            "WHERE passerelle:fournisseur = 'BTP Rhône-Alpes'"
        )
    ),
)
assert [r.getName() for r in rows] == ["Facture F-2026-001.txt"], rows

step("query by content")
rows = until(
    "the specification by its words",
    lambda: list(repo.query("SELECT * FROM cmis:document WHERE CONTAINS('olympique')")),
)
assert [r.getName() for r in rows] == ["CCTP piscine.txt"], [r.getName() for r in rows]
inside = list(
    repo.query(
        "SELECT cmis:name FROM cmis:document WHERE IN_FOLDER('%s') ORDER BY cmis:name"
        % folder.getObjectId()
    )
)
assert [r.getProperties()["cmis:name"] for r in inside] == [
    "CCTP piscine.txt",
    "Facture F-2026-001.txt",
], inside

step("a reader reads and may not write")
as_reader = repo_as(reader, reader_pw)
seen = as_reader.getObject(facture.getObjectId())
assert seen.getProperties()["passerelle:fournisseur"] == "BTP Rhône-Alpes"
assert seen.getAllowableActions()["canUpdateProperties"] is False
for attempt in (
    lambda: seen.updateProperties({"passerelle:fournisseur": "Pirate"}),
    lambda: seen.checkout(),
    lambda: seen.delete(),
    lambda: as_reader.getObject(folder.getObjectId()).createFolder("Intrus"),
):
    try:
        attempt()
    except PermissionDeniedException:
        continue
    raise AssertionError("a reader was allowed to write")

step("an outsider sees nothing")
as_outsider = repo_as(outsider, outsider_pw)
assert len(as_outsider.getRootFolder().getChildren()) == 0
try:
    as_outsider.getObject(facture.getObjectId()).getProperties()
    raise AssertionError("an outsider read the invoice")
except ObjectNotFoundException:
    pass
assert list(as_outsider.query("SELECT * FROM cmis:document WHERE CONTAINS('olympique')")) == []

step("a wrong password")
try:
    repo_as(login, "pas le bon").getRepositoryInfo()
    raise AssertionError("a wrong password was accepted")
except PermissionDeniedException:
    pass

step("delete")
cctp_id = cctp.getObjectId()
cctp.delete()
try:
    repo.getObject(cctp_id).getProperties()
    raise AssertionError("a deleted document is still there")
except ObjectNotFoundException:
    pass

print(json.dumps({"folder": folder.getObjectId(), "facture": facture.getObjectId(), "cctp": cctp_id}))
