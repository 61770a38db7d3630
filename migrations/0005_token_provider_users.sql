-- A token's owner may have another name at a provider (Coder: their Coder username). Admins set
-- it when minting the token, as a JSON object {provider: username}; NULL means the owner name.
ALTER TABLE tokens ADD COLUMN provider_users TEXT;
