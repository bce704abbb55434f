"""A tenant admin asks the listing endpoints for another tenant through query parameters."""

from scenarios.steps import document, expect_listing, login, tenant, user

title = "Tenant admin reaching into another tenant through list filters"
threat = """Mallory cannot name a rival tenant's ids, so she asks the list endpoints to do the
work: ?tenant=globex, ?tenant_id=..., ?tid=... . Listings must show her own tenant's rows only,
whatever the query string says."""
contract = {
    "5": "listing endpoints return only the caller's tenant's rows, whatever the query parameters say",
}
checks = ("TEN-LIST-FILTER", "TEN-PARAM-SPOOF")
needs = ("tenants", "documents", "user_admin")
caught_by_faults = ("tenant-from-query",)

FILTERS = {"tenant": "{tenant:globex}", "tenant_id": "{tenant-id:globex}", "tid": "{tenant-id:globex}"}

steps = [
    tenant("globex", admin="gina"),
    login("gina", as_="gina-laptop"),
    document("merger-plan", by="gina-laptop"),
    user("gus", role="viewer", by="gina-laptop"),
    tenant("acme", admin="mallory"),
    login("mallory", as_="mallory-laptop"),
    document("acme-notes", by="mallory-laptop"),
    expect_listing("mallory-laptop", "documents_list", includes=("acme-notes",), excludes=("merger-plan",)),
    expect_listing("mallory-laptop", "documents_list", params=FILTERS, excludes=("merger-plan",)),
    expect_listing("mallory-laptop", "users_list", params=FILTERS, includes=("mallory",),
                   excludes=("gina", "gus")),
]
