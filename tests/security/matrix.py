"""Who may call what: one entry per endpoint of each app, written by hand.

The tests build the list of endpoints from each app's url_map, so a new endpoint with no
entry here fails `test_every_endpoint_has_a_rule`, and every entry is then tried as
anonymous and as every role. Kinds:
- PUBLIC: anyone (sign-in page, static files, published results);
- LINK: anyone holding the secret in the URL (an owner's ballot link);
- DEVICE: a device token (Bearer) of one of `roles`; a signed-in page session is not enough;
- READER: a device token or a signed-in session of one of `roles` (photos);
- SESSION: a signed-in user of one of `roles`.
"""

from __future__ import annotations

PUBLIC, LINK, DEVICE, READER, SESSION = "public", "link", "device", "reader", "session"

ALL = (
    "volunteer",
    "building_head",
    "property",
    "committee",
    "community_admin",
    "street_official",
)
ADMIN = ("community_admin",)
STREET = ("street_official",)
MANAGE_VOTES = ("committee", "community_admin")
REGISTER_READERS = ("volunteer", "building_head", "property", "committee", "community_admin")
FIELD = ("volunteer", "building_head", "community_admin")
LEDGER = ("community_admin", "committee")
PUSHERS = ("volunteer", "building_head", "property", "committee", "community_admin")

SERVER: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": (SESSION, ALL),
    "static.static": (PUBLIC, ()),
    "openapi.document": (PUBLIC, ()),
    "auth.login": (PUBLIC, ()),
    "auth.logout": (PUBLIC, ()),
    "auth.set_language": (PUBLIC, ()),
    # sync API and photos
    "sync_api.hello": (DEVICE, ALL),
    "sync_api.pull": (DEVICE, ALL),
    "sync_api.push": (DEVICE, PUSHERS),
    "blobs.upload": (
        DEVICE,
        ("volunteer", "building_head", "property", "committee", "community_admin"),
    ),
    "blobs.status": (
        DEVICE,
        ("volunteer", "building_head", "property", "committee", "community_admin"),
    ),
    "blobs.photo": (READER, ALL),
    "blobs.thumb": (READER, ALL),
    "blobs.pending": (READER, ALL),
    # places and register
    "places.places": (SESSION, ALL),
    "places.add_place": (SESSION, ADMIN),
    "places.compounds": (SESSION, ALL),
    "places.compound": (SESSION, ALL),
    "places.new_compound": (SESSION, ADMIN),
    "places.edit_compound": (SESSION, ADMIN),
    "places.add_building": (SESSION, ADMIN),
    "places.edit_building": (SESSION, ADMIN),
    "register.households": (SESSION, REGISTER_READERS),
    "register.household": (SESSION, REGISTER_READERS),
    "register.api_households": (SESSION, REGISTER_READERS),
    "register.new_household": (SESSION, ("building_head", "community_admin")),
    "register.edit_household": (SESSION, ("building_head", "community_admin")),
    "register.delete_household": (SESSION, ("building_head", "community_admin")),
    "register.add_resident": (SESSION, ("building_head", "community_admin")),
    "register.edit_resident": (SESSION, ("building_head", "community_admin")),
    "register.delete_resident": (SESSION, ("building_head", "community_admin")),
    "register.import_form": (SESSION, ADMIN),
    "register.import_upload": (SESSION, ADMIN),
    "register.import_confirm": (SESSION, ADMIN),
    "register.export_list": (SESSION, ADMIN),
    # accounts
    "accounts.users": (SESSION, ADMIN),
    "accounts.create_user": (SESSION, ADMIN),
    "accounts.user": (SESSION, ADMIN),
    "accounts.update_user": (SESSION, ADMIN),
    "accounts.issue_device": (SESSION, ADMIN),
    "accounts.devices": (SESSION, ADMIN),
    "accounts.revoke_device": (SESSION, ADMIN),
    # certification
    "certification.dashboard": (SESSION, ALL),
    "certification.compound": (SESSION, ALL),
    "certification.lists": (SESSION, ALL),
    "certification.published": (SESSION, ALL),
    "certification.report": (SESSION, ALL),
    "certification.totals": (SESSION, ALL),
    "certification.api_compound": (SESSION, ALL),
    # A community's figures need a scope holding all its compounds (403 otherwise).
    "certification.api_community": (SESSION, ("community_admin", "street_official")),
    "certification.apply": (SESSION, ADMIN),
    "certification.add_attestation": (SESSION, ADMIN),
    "certification.add_closure": (SESSION, ADMIN),
    "certification.set_work_group": (SESSION, ADMIN),
    "certification.decide": (SESSION, STREET),
    "certification.revoke": (SESSION, STREET),
    "certification.publish": (SESSION, STREET),
    # votes
    "voting.index": (SESSION, MANAGE_VOTES),
    "voting.new": (SESSION, MANAGE_VOTES),
    "voting.detail": (SESSION, MANAGE_VOTES),
    "voting.audit": (SESSION, MANAGE_VOTES),
    "voting.electorate": (SESSION, MANAGE_VOTES),
    "voting.open_": (SESSION, MANAGE_VOTES),
    "voting.close": (SESSION, MANAGE_VOTES),
    "voting.links": (SESSION, MANAGE_VOTES),
    "voting.revoke": (SESSION, MANAGE_VOTES),
    "voting.result": (PUBLIC, ()),
    "voting.bulletin": (PUBLIC, ()),
    "voting.ballot": (LINK, ()),
    "voting.cast": (LINK, ()),
    "voting.receipt": (LINK, ()),
    "voting.api_list": (SESSION, MANAGE_VOTES),
    "voting.api_create": (SESSION, MANAGE_VOTES),
    "voting.api_get": (SESSION, MANAGE_VOTES),
    "voting.api_audit": (SESSION, MANAGE_VOTES),
    "voting.api_close": (SESSION, MANAGE_VOTES),
    "voting.api_electorate": (SESSION, MANAGE_VOTES),
    "voting.api_links": (SESSION, MANAGE_VOTES),
    "voting.api_revoke": (SESSION, MANAGE_VOTES),
    "voting.api_open": (SESSION, MANAGE_VOTES),
    "voting.api_result": (PUBLIC, ()),
    "voting.api_bulletin": (PUBLIC, ()),
    "voting.api_cast": (LINK, ()),
    # supply
    "supply.index": (SESSION, ALL),
    "supply.ledger_page": (SESSION, LEDGER),
    "supply.add_entry": (SESSION, LEDGER),
    "supply.export_ledger": (SESSION, LEDGER),
    "supply.correct_entry": (SESSION, LEDGER),
    "supply.medicine_page": (SESSION, FIELD),
    "supply.reassign": (SESSION, FIELD),
    "supply.return_medicine": (SESSION, FIELD),
    "supply.show_offer": (SESSION, ALL),
    "supply.close_offer": (SESSION, ADMIN),
    "supply.dispatch": (SESSION, ADMIN),
    "supply.place_order": (SESSION, FIELD),
    "supply.export_orders": (SESSION, ALL),
    "supply.new_offer": (SESSION, ADMIN),
    "supply.set_payment": (SESSION, FIELD),
    "supply.policy": (SESSION, ADMIN),
    "supply.show_round": (SESSION, ALL),
    "supply.cancel_round": (SESSION, ADMIN),
    "supply.confirm_round": (SESSION, ADMIN),
    "supply.packing": (SESSION, ALL),
    "supply.export_packing": (SESSION, ALL),
    "supply.export_plan": (SESSION, ALL),
    "supply.new_round": (SESSION, ADMIN),
    "supply_api.ledger_balances": (SESSION, LEDGER),
    "supply_api.medicine_stock": (SESSION, FIELD),
    "supply_api.offer_totals": (SESSION, ALL),
    "supply_api.round_plan": (SESSION, ALL),
}

# The field agent has one kind of user: a volunteer signed in with a PIN on the laptop.
# VOLUNTEER: needs a signed-in volunteer; PUBLIC: sign-in, first start, language.
VOLUNTEER = "volunteer"
AGENT: dict[str, str] = {
    "static.static": PUBLIC,
    "agent_static.static": PUBLIC,
    "volunteers.setup": PUBLIC,
    "volunteers.signin": PUBLIC,
    "volunteers.set_language": PUBLIC,
    "volunteers.index": VOLUNTEER,
    "volunteers.lock": VOLUNTEER,
    "volunteers.switch": VOLUNTEER,
    "places.home": VOLUNTEER,
    "places.choose_compound": VOLUNTEER,
    "temperatures.index": VOLUNTEER,
    "temperatures.grid": VOLUNTEER,
    "temperatures.save": VOLUNTEER,
    "deliveries.index": VOLUNTEER,
    "deliveries.new": VOLUNTEER,
    "deliveries.set_status": VOLUNTEER,
    "medicine.index": VOLUNTEER,
    "medicine.new": VOLUNTEER,
    "medicine.bought": VOLUNTEER,
    "medicine.delivered": VOLUNTEER,
    "medicine.refused": VOLUNTEER,
    "medicine.reassign": VOLUNTEER,
    "medicine.photo": VOLUNTEER,
    "medicine.shopping": VOLUNTEER,
    "medicine.stock": VOLUNTEER,
    "disinfection.index": VOLUNTEER,
    "health.index": VOLUNTEER,
    "health.new": VOLUNTEER,
    "health.release": VOLUNTEER,
    "ballots.index": VOLUNTEER,
    "ballots.record": VOLUNTEER,
    "ballots.receipt": VOLUNTEER,
    "ballots.done": VOLUNTEER,
    "orders.index": VOLUNTEER,
    "orders.new": VOLUNTEER,
    "syncing.index": VOLUNTEER,
    "syncing.status_bar": VOLUNTEER,
    "syncing.now": VOLUNTEER,
    "syncing.outbox_page": VOLUNTEER,
    "syncing.discard": VOLUNTEER,
    "syncing.resend": VOLUNTEER,
    "syncing.conflicts": VOLUNTEER,
    "syncing.keep_theirs": VOLUNTEER,
    "syncing.write_mine": VOLUNTEER,
}

# Values for URL parts, by name (world ids are filled in by the tests).
STATIC_FILE = "app.css"
