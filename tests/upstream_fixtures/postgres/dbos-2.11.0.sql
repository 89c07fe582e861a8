-- Written by upstream dbos 2.11.0 (tests/upstream_fixtures/generate.py)
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
    owner_xid text,
    parent_workflow_id text
);


--
-- Data for Name: dbos_migrations; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.dbos_migrations (version) FROM stdin;
8
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
late-receiver-wf	note	gASVCQAAAAAAAACMBWhlbGxvlC4=	1796560690828	0ef86d1c-94c8-4833-81b6-7692e4bf21c5
\.


--
-- Data for Name: operation_outputs; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.operation_outputs (workflow_uuid, function_id, function_name, output, error, child_workflow_id, started_at_epoch_ms, completed_at_epoch_ms) FROM stdin;
finished-wf	1	double	gARLKi4=	\N	\N	1796560690623	1796560690627
finished-wf	2	DBOS.setEvent	\N	\N	\N	1796560690632	1796560690639
finished-wf	3	DBOS.writeStream	\N	\N	\N	1796560690642	1796560690648
finished-wf	4	DBOS.writeStream	\N	\N	\N	1796560690652	1796560690655
finished-wf	5	DBOS.writeStream	\N	\N	\N	1796560690658	1796560690663
finished-wf	6	DBOS.closeStream	\N	\N	\N	1796560690666	1796560690670
sleeper-wf	1	double	gARLDi4=	\N	\N	1796560690687	1796560690712
waiter-wf	1	double	gARLAi4=	\N	\N	1796560690700	1796560690712
sleeper-wf	2	DBOS.sleep	gASVCgAAAAAAAABHQdrFVdGugPUu	\N	\N	1796560690722	1796560690726
late-receiver-wf	1	double	gARLBC4=	\N	\N	1796560690734	1796560690751
waiter-wf	3	DBOS.sleep	gASVCgAAAAAAAABHQeTWBCZYAQgu	\N	\N	1796560690736	1796560690750
late-receiver-wf	2	DBOS.sleep	gASVCgAAAAAAAABHQdrFVdGxCAYu	\N	\N	1796560690758	1796560690766
aee29b4c-944f-4d07-b2a4-6b90c2ee46a4	1	DBOS.send	\N	\N	\N	1796560690827	1796560690840
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

COPY dbos.workflow_status (workflow_uuid, status, name, authenticated_user, assumed_role, authenticated_roles, request, output, error, executor_id, created_at, updated_at, application_version, application_id, class_name, config_name, recovery_attempts, queue_name, workflow_timeout_ms, workflow_deadline_epoch_ms, inputs, started_at_epoch_ms, deduplication_id, priority, queue_partition_key, forked_from, owner_xid, parent_workflow_id) FROM stdin;
finished-wf	SUCCESS	finished_wf	\N	\N	\N	\N	gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu	\N	local	1796560690615	1796560690676	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	1d3f698a-cccc-430f-b6e6-3c156f3ba8c4	\N
failing-wf	ERROR	failing_wf	\N	\N	\N	\N	\N	gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=	local	1796560690679	1796560690682	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	f54e4ff9-cc55-491f-ab47-a8c289bb07db	\N
sleeper-wf	PENDING	sleeper	\N	\N	\N	\N	\N	\N	local	1796560690685	1796560690685	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	9c7c64ed-8710-4c1a-a600-c9285efee8ef	\N
waiter-wf	PENDING	waiter	\N	\N	\N	\N	\N	\N	local	1796560690698	1796560690698	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	d2ad1849-7d37-476c-ae59-be03353d4843	\N
late-receiver-wf	PENDING	late_receiver	\N	\N	\N	\N	\N	\N	local	1796560690717	1796560690717	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	1e2f1829-bcbd-40ab-8d1c-6b2576864492	\N
aee29b4c-944f-4d07-b2a4-6b90c2ee46a4	SUCCESS	<temp>.temp_send_workflow	\N	\N	\N	\N	gAROLg==	\N	local	1796560690823	1796560690848	8dff17cd7e0e1f0d830c277236d7fb4f		\N	\N	1	\N	\N	\N	gASVOwAAAAAAAAB9lCiMBGFyZ3OUjBBsYXRlLXJlY2VpdmVyLXdmlIwFaGVsbG+UjARub3RllIeUjAZrd2FyZ3OUfZR1Lg==	\N	\N	0	\N	\N	bb47425b-e348-4bce-ab47-5425d31b04a9	\N
queued-wf	ENQUEUED	queued_wf	\N	\N	\N	\N	\N	\N	\N	1796560691816	1796560691816	\N	\N	\N	\N	0	fixture_queue	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	\N	\N
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
-- Name: idx_workflow_status_parent_workflow_id; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_parent_workflow_id ON dbos.workflow_status USING btree (parent_workflow_id);


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


