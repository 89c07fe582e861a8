-- Written by upstream dbos 2.8.0 (tests/upstream_fixtures/generate.py)
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)


--
-- Name: dbos; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA dbos;


--
-- Name: notifications_function(); Type: FUNCTION; Schema: dbos; Owner: -
--

CREATE FUNCTION dbos.notifications_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload text := NEW.destination_uuid || '::' || NEW.topic;
BEGIN
    PERFORM pg_notify('dbos_notifications_channel', payload);
    RETURN NEW;
END;
$$;


--
-- Name: workflow_events_function(); Type: FUNCTION; Schema: dbos; Owner: -
--

CREATE FUNCTION dbos.workflow_events_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload text := NEW.workflow_uuid || '::' || NEW.key;
BEGIN
    PERFORM pg_notify('dbos_workflow_events_channel', payload);
    RETURN NEW;
END;
$$;




--
-- Name: dbos_migrations; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.dbos_migrations (
    version bigint NOT NULL
);


--
-- Name: event_dispatch_kv; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.event_dispatch_kv (
    service_name text NOT NULL,
    workflow_fn_name text NOT NULL,
    key text NOT NULL,
    value text,
    update_seq numeric(38,0),
    update_time numeric(38,15)
);


--
-- Name: notifications; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.notifications (
    destination_uuid text NOT NULL,
    topic text,
    message text NOT NULL,
    created_at_epoch_ms bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    message_uuid text DEFAULT gen_random_uuid() NOT NULL
);


--
-- Name: operation_outputs; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.operation_outputs (
    workflow_uuid text NOT NULL,
    function_id integer NOT NULL,
    function_name text DEFAULT ''::text NOT NULL,
    output text,
    error text,
    child_workflow_id text,
    started_at_epoch_ms bigint,
    completed_at_epoch_ms bigint
);


--
-- Name: streams; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.streams (
    workflow_uuid text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    "offset" integer NOT NULL,
    function_id integer DEFAULT 0 NOT NULL
);


--
-- Name: workflow_events; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_events (
    workflow_uuid text NOT NULL,
    key text NOT NULL,
    value text NOT NULL
);


--
-- Name: workflow_events_history; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_events_history (
    workflow_uuid text NOT NULL,
    function_id integer NOT NULL,
    key text NOT NULL,
    value text NOT NULL
);


--
-- Name: workflow_status; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_status (
    workflow_uuid text NOT NULL,
    status text,
    name text,
    authenticated_user text,
    assumed_role text,
    authenticated_roles text,
    request text,
    output text,
    error text,
    executor_id text,
    created_at bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    updated_at bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    application_version text,
    application_id text,
    class_name character varying(255) DEFAULT NULL::character varying,
    config_name character varying(255) DEFAULT NULL::character varying,
    recovery_attempts bigint DEFAULT 0,
    queue_name text,
    workflow_timeout_ms bigint,
    workflow_deadline_epoch_ms bigint,
    inputs text,
    started_at_epoch_ms bigint,
    deduplication_id text,
    priority integer DEFAULT 0 NOT NULL,
    queue_partition_key text,
    forked_from text,
    owner_xid text
);


--
-- Data for Name: dbos_migrations; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.dbos_migrations (version) FROM stdin;
7
\.


--
-- Data for Name: event_dispatch_kv; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.event_dispatch_kv (service_name, workflow_fn_name, key, value, update_seq, update_time) FROM stdin;
\.


--
-- Data for Name: notifications; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.notifications (destination_uuid, topic, message, created_at_epoch_ms, message_uuid) FROM stdin;
late-receiver-wf	note	gASVCQAAAAAAAACMBWhlbGxvlC4=	1796560686445	945f22f6-8da1-4490-85e5-3e0c11871aab
\.


--
-- Data for Name: operation_outputs; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.operation_outputs (workflow_uuid, function_id, function_name, output, error, child_workflow_id, started_at_epoch_ms, completed_at_epoch_ms) FROM stdin;
finished-wf	1	double	gARLKi4=	\N	\N	1796560686255	1796560686255
finished-wf	2	DBOS.setEvent	\N	\N	\N	1796560686259	1796560686265
finished-wf	3	DBOS.writeStream	\N	\N	\N	1796560686267	1796560686272
finished-wf	4	DBOS.writeStream	\N	\N	\N	1796560686274	1796560686276
finished-wf	5	DBOS.writeStream	\N	\N	\N	1796560686278	1796560686281
finished-wf	6	DBOS.closeStream	\N	\N	\N	1796560686283	1796560686288
waiter-wf	1	double	gARLAi4=	\N	\N	1796560686330	1796560686330
sleeper-wf	1	double	gARLDi4=	\N	\N	1796560686333	1796560686333
sleeper-wf	2	DBOS.sleep	gASVCgAAAAAAAABHQdrFVdCWWpUu	\N	\N	1796560686346	1796560686349
waiter-wf	3	DBOS.sleep	gASVCgAAAAAAAABHQeTWBCXLX0Eu	\N	\N	1796560686354	1796560686355
late-receiver-wf	1	double	gARLBC4=	\N	\N	1796560686354	1796560686354
late-receiver-wf	2	DBOS.sleep	gASVCgAAAAAAAABHQdrFVdCYUicu	\N	\N	1796560686370	1796560686380
2c7d21a6-f83f-47f2-95aa-2b4a7952293e	1	DBOS.send	\N	\N	\N	1796560686442	1796560686451
\.


--
-- Data for Name: streams; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.streams (workflow_uuid, key, value, "offset", function_id) FROM stdin;
finished-wf	progress	gARLAC4=	0	3
finished-wf	progress	gARLAS4=	1	4
finished-wf	progress	gARLAi4=	2	5
finished-wf	progress	gASVGgAAAAAAAACMFl9fREJPU19TVFJFQU1fQ0xPU0VEX1+ULg==	3	6
\.


--
-- Data for Name: workflow_events; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_events (workflow_uuid, key, value) FROM stdin;
finished-wf	status	gASVCwAAAAAAAACMB3NoaXBwZWSULg==
\.


--
-- Data for Name: workflow_events_history; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_events_history (workflow_uuid, function_id, key, value) FROM stdin;
finished-wf	2	status	gASVCwAAAAAAAACMB3NoaXBwZWSULg==
\.


--
-- Data for Name: workflow_status; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_status (workflow_uuid, status, name, authenticated_user, assumed_role, authenticated_roles, request, output, error, executor_id, created_at, updated_at, application_version, application_id, class_name, config_name, recovery_attempts, queue_name, workflow_timeout_ms, workflow_deadline_epoch_ms, inputs, started_at_epoch_ms, deduplication_id, priority, queue_partition_key, forked_from, owner_xid) FROM stdin;
finished-wf	SUCCESS	finished_wf	\N	\N	\N	\N	gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu	\N	local	1796560686248	1796560686296	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	1d0c42f3-ebad-4988-9c1a-1a92b3ccd8e9
failing-wf	ERROR	failing_wf	\N	\N	\N	\N	\N	gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=	local	1796560686300	1796560686304	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	49e6ec08-421b-4f67-801e-7514f0cafb94
sleeper-wf	PENDING	sleeper	\N	\N	\N	\N	\N	\N	local	1796560686312	1796560686312	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	27b15051-0df1-46a5-8f27-58b72ac4efa5
waiter-wf	PENDING	waiter	\N	\N	\N	\N	\N	\N	local	1796560686315	1796560686315	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	ba4c4e5a-af78-4fe0-903e-6637d42d6da9
late-receiver-wf	PENDING	late_receiver	\N	\N	\N	\N	\N	\N	local	1796560686338	1796560686338	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	8d1eff04-bfea-40d5-93bc-2b5bf6dcd3cf
2c7d21a6-f83f-47f2-95aa-2b4a7952293e	SUCCESS	<temp>.temp_send_workflow	\N	\N	\N	\N	gAROLg==	\N	local	1796560686440	1796560686456	e2590a1cf9c41ac2ea3c6af1c6f2a5f6		\N	\N	1	\N	\N	\N	gASVOwAAAAAAAAB9lCiMBGFyZ3OUjBBsYXRlLXJlY2VpdmVyLXdmlIwFaGVsbG+UjARub3RllIeUjAZrd2FyZ3OUfZR1Lg==	\N	\N	0	\N	\N	09c0270e-4a90-4010-bf99-d0aec9d3355a
queued-wf	ENQUEUED	queued_wf	\N	\N	\N	\N	\N	\N	\N	1796560687032	1796560687032	\N	\N	\N	\N	0	fixture_queue	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	\N
\.


--
-- Name: dbos_migrations dbos_migrations_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.dbos_migrations
    ADD CONSTRAINT dbos_migrations_pkey PRIMARY KEY (version);


--
-- Name: event_dispatch_kv event_dispatch_kv_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.event_dispatch_kv
    ADD CONSTRAINT event_dispatch_kv_pkey PRIMARY KEY (service_name, workflow_fn_name, key);


--
-- Name: operation_outputs operation_outputs_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.operation_outputs
    ADD CONSTRAINT operation_outputs_pkey PRIMARY KEY (workflow_uuid, function_id);


--
-- Name: streams streams_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.streams
    ADD CONSTRAINT streams_pkey PRIMARY KEY (workflow_uuid, key, "offset");


--
-- Name: workflow_status uq_workflow_status_queue_name_dedup_id; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_status
    ADD CONSTRAINT uq_workflow_status_queue_name_dedup_id UNIQUE (queue_name, deduplication_id);


--
-- Name: workflow_events_history workflow_events_history_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events_history
    ADD CONSTRAINT workflow_events_history_pkey PRIMARY KEY (workflow_uuid, function_id, key);


--
-- Name: workflow_events workflow_events_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events
    ADD CONSTRAINT workflow_events_pkey PRIMARY KEY (workflow_uuid, key);


--
-- Name: workflow_status workflow_status_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_status
    ADD CONSTRAINT workflow_status_pkey PRIMARY KEY (workflow_uuid);


--
-- Name: idx_workflow_status_forked_from; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_forked_from ON dbos.workflow_status USING btree (forked_from);


--
-- Name: idx_workflow_status_queue_status_started; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_queue_status_started ON dbos.workflow_status USING btree (queue_name, status, started_at_epoch_ms);


--
-- Name: idx_workflow_topic; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_topic ON dbos.notifications USING btree (destination_uuid, topic);


--
-- Name: workflow_status_created_at_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_created_at_index ON dbos.workflow_status USING btree (created_at);


--
-- Name: workflow_status_executor_id_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_executor_id_index ON dbos.workflow_status USING btree (executor_id);


--
-- Name: workflow_status_status_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_status_index ON dbos.workflow_status USING btree (status);


--
-- Name: notifications dbos_notifications_trigger; Type: TRIGGER; Schema: dbos; Owner: -
--

CREATE TRIGGER dbos_notifications_trigger AFTER INSERT ON dbos.notifications FOR EACH ROW EXECUTE FUNCTION dbos.notifications_function();


--
-- Name: workflow_events dbos_workflow_events_trigger; Type: TRIGGER; Schema: dbos; Owner: -
--

CREATE TRIGGER dbos_workflow_events_trigger AFTER INSERT ON dbos.workflow_events FOR EACH ROW EXECUTE FUNCTION dbos.workflow_events_function();


--
-- Name: notifications notifications_destination_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.notifications
    ADD CONSTRAINT notifications_destination_uuid_fkey FOREIGN KEY (destination_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: operation_outputs operation_outputs_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.operation_outputs
    ADD CONSTRAINT operation_outputs_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: streams streams_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.streams
    ADD CONSTRAINT streams_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: workflow_events_history workflow_events_history_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events_history
    ADD CONSTRAINT workflow_events_history_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: workflow_events workflow_events_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events
    ADD CONSTRAINT workflow_events_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


