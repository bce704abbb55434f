"""Headers that name a user or tenant must never authenticate or switch tenant."""

from scenarios.steps import call, document, expect_listing, login, tenant

title = "Identity-header spoofing"
threat = """Some stacks let a gateway pass the caller's identity in X-User-ID / X-Tenant-ID headers.
If the API believes those headers from anybody, a client without a token becomes any user it
names, and a user of one tenant reads another by setting X-Tenant-ID."""
contract = {
    "5": "the tenant comes from the verified token, never from a client header (X-Tenant-ID, X-User-ID)",
}
checks = ("TEN-HEADER-SPOOF",)
needs = ("tenants", "documents", "user_admin")
caught_by_faults = ("identity-from-headers", "tenant-from-header")

SPOOF = {"X-User-ID": "{user:gina}", "X-Tenant-ID": "{tenant-id:globex}", "X-Tenant": "{tenant:globex}"}

steps = [
    tenant("globex", admin="gina"),
    login("gina", as_="gina-laptop"),
    document("merger-plan", by="gina-laptop"),
    tenant("acme", admin="mallory"),
    login("mallory", as_="mallory-laptop"),
    call(None, "users_list", headers=SPOOF, expect="unauthenticated"),
    call(None, "documents_list", headers=SPOOF, expect="unauthenticated"),
    expect_listing("mallory-laptop", "documents_list", headers=SPOOF, excludes=("merger-plan",)),
    call("mallory-laptop", "document_get", ids={"id": "{doc:merger-plan}"}, headers=SPOOF,
         expect="not found"),
]
