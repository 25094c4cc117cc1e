-- CSV import of deals (internal/dataio). A deal imported from another CRM
-- keeps that CRM's id (HubSpot's Record ID, Salesforce's Opportunity ID) so
-- importing the same export again updates or skips it instead of creating a
-- duplicate. NULL for deals made in Ryorin; NULLs never collide.
ALTER TABLE deals ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX deals_external_id ON deals (workspace_id, external_id);
