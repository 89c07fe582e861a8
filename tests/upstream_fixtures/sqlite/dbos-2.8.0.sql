-- Written by upstream dbos 2.8.0 (tests/upstream_fixtures/generate.py)
BEGIN TRANSACTION;
CREATE TABLE dbos_migrations (version INTEGER NOT NULL PRIMARY KEY);
INSERT INTO "dbos_migrations" VALUES(7);
CREATE TABLE notifications (
    destination_uuid TEXT NOT NULL,
    topic TEXT,
    message TEXT NOT NULL,
    created_at_epoch_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    message_uuid TEXT NOT NULL DEFAULT (hex(randomblob(16))),
    FOREIGN KEY (destination_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "notifications" VALUES('late-receiver-wf','note','gASVCQAAAAAAAACMBWhlbGxvlC4=',1796560684000,'8959AB55666F6333E32D37276B03828D');
CREATE TABLE operation_outputs (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    function_name TEXT NOT NULL DEFAULT '',
    output TEXT,
    error TEXT,
    child_workflow_id TEXT, started_at_epoch_ms BIGINT, completed_at_epoch_ms BIGINT,
    PRIMARY KEY (workflow_uuid, function_id),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "operation_outputs" VALUES('finished-wf',1,'double','gARLKi4=',NULL,NULL,1796560684464,1796560684464);
INSERT INTO "operation_outputs" VALUES('finished-wf',2,'DBOS.setEvent',NULL,NULL,NULL,1796560684468,1796560684471);
INSERT INTO "operation_outputs" VALUES('finished-wf',3,'DBOS.writeStream',NULL,NULL,NULL,1796560684472,1796560684475);
INSERT INTO "operation_outputs" VALUES('finished-wf',4,'DBOS.writeStream',NULL,NULL,NULL,1796560684477,1796560684479);
INSERT INTO "operation_outputs" VALUES('finished-wf',5,'DBOS.writeStream',NULL,NULL,NULL,1796560684481,1796560684483);
INSERT INTO "operation_outputs" VALUES('finished-wf',6,'DBOS.closeStream',NULL,NULL,NULL,1796560684485,1796560684486);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',1,'double','gARLDi4=',NULL,NULL,1796560684500,1796560684500);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',2,'DBOS.sleep','gASVCgAAAAAAAABHQdrFVdAgYmEu',NULL,NULL,1796560684505,1796560684506);
INSERT INTO "operation_outputs" VALUES('waiter-wf',1,'double','gARLAi4=',NULL,NULL,1796560684526,1796560684526);
INSERT INTO "operation_outputs" VALUES('waiter-wf',3,'DBOS.sleep','gASVCgAAAAAAAABHQeTWBCWREYgu',NULL,NULL,1796560684533,1796560684533);
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',1,'double','gARLBC4=',NULL,NULL,1796560684534,1796560684534);
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',2,'DBOS.sleep','gASVCgAAAAAAAABHQdrFVdAjBtEu',NULL,NULL,1796560684546,1796560684547);
INSERT INTO "operation_outputs" VALUES('39e8b820-1b85-4126-a9f3-663ba5e200ae',1,'DBOS.send',NULL,NULL,NULL,1796560684591,1796560684593);
CREATE TABLE streams (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    "offset" INTEGER NOT NULL, function_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workflow_uuid, key, "offset"),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAC4=',0,3);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAS4=',1,4);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAi4=',2,5);
INSERT INTO "streams" VALUES('finished-wf','progress','gASVGgAAAAAAAACMFl9fREJPU19TVFJFQU1fQ0xPU0VEX1+ULg==',3,6);
CREATE TABLE workflow_events (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workflow_uuid, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events" VALUES('finished-wf','status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==');
CREATE TABLE workflow_events_history (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workflow_uuid, function_id, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid)
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events_history" VALUES('finished-wf',2,'status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==');
CREATE TABLE workflow_status (
    workflow_uuid TEXT PRIMARY KEY,
    status TEXT,
    name TEXT,
    authenticated_user TEXT,
    assumed_role TEXT,
    authenticated_roles TEXT,
    request TEXT,
    output TEXT,
    error TEXT,
    executor_id TEXT,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    application_version TEXT,
    application_id TEXT,
    class_name TEXT DEFAULT NULL,
    config_name TEXT DEFAULT NULL,
    recovery_attempts INTEGER DEFAULT 0,
    queue_name TEXT,
    workflow_timeout_ms INTEGER,
    workflow_deadline_epoch_ms INTEGER,
    inputs TEXT,
    started_at_epoch_ms INTEGER,
    deduplication_id TEXT,
    priority INTEGER NOT NULL DEFAULT 0
, queue_partition_key TEXT, forked_from TEXT, "owner_xid" TEXT DEFAULT NULL);
INSERT INTO "workflow_status" VALUES('finished-wf','SUCCESS','finished_wf',NULL,NULL,NULL,NULL,'gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu',NULL,'local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'fcbb3d3f-f2f5-4322-9bdf-4062cd5fcf8b');
INSERT INTO "workflow_status" VALUES('failing-wf','ERROR','failing_wf',NULL,NULL,NULL,NULL,NULL,'gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=','local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'e31e2000-a4dd-43ce-a290-997bd02f1173');
INSERT INTO "workflow_status" VALUES('sleeper-wf','PENDING','sleeper',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'e464140f-8e9f-4667-8031-acb2931b7eae');
INSERT INTO "workflow_status" VALUES('waiter-wf','PENDING','waiter',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'38b01efb-fc7f-4554-96b2-5e7157b11799');
INSERT INTO "workflow_status" VALUES('late-receiver-wf','PENDING','late_receiver',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'6bc33500-826c-4814-923f-b253976a104b');
INSERT INTO "workflow_status" VALUES('39e8b820-1b85-4126-a9f3-663ba5e200ae','SUCCESS','<temp>.temp_send_workflow',NULL,NULL,NULL,NULL,'gAROLg==',NULL,'local',1796560684000,1796560684000,'e2590a1cf9c41ac2ea3c6af1c6f2a5f6','',NULL,NULL,1,NULL,NULL,NULL,'gASVOwAAAAAAAAB9lCiMBGFyZ3OUjBBsYXRlLXJlY2VpdmVyLXdmlIwFaGVsbG+UjARub3RllIeUjAZrd2FyZ3OUfZR1Lg==',NULL,NULL,0,NULL,NULL,'febcd118-a9ff-4dfc-b632-99ed330b6e00');
INSERT INTO "workflow_status" VALUES('queued-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560685000,1796560685000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,NULL);
CREATE INDEX workflow_status_created_at_index ON workflow_status (created_at);
CREATE INDEX workflow_status_executor_id_index ON workflow_status (executor_id);
CREATE INDEX workflow_status_status_index ON workflow_status (status);
CREATE UNIQUE INDEX uq_workflow_status_queue_name_dedup_id 
ON workflow_status (queue_name, deduplication_id);
CREATE INDEX idx_workflow_topic ON notifications (destination_uuid, topic);
CREATE INDEX "idx_workflow_status_queue_status_started"
ON "workflow_status" ("queue_name", "status", "started_at_epoch_ms");
CREATE INDEX "idx_workflow_status_forked_from" ON "workflow_status" ("forked_from");
COMMIT;
