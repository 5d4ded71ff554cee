-- Who may set and delete alerts in a group (/settings, modules/core/settings):
-- '' is anyone, 'admins' the group's administrators (getChatMember, cached).
ALTER TABLE chat_settings ADD COLUMN alerts_by TEXT NOT NULL DEFAULT '';
