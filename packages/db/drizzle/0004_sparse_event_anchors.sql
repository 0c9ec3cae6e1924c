DROP INDEX "events_partition_enqueued_time_idx";--> statement-breakpoint
DROP INDEX "events_partition_offset_idx";--> statement-breakpoint
CREATE INDEX "events_anchor_enqueued_time_idx" ON "events" USING btree ("partition_id","enqueued_time") WHERE sequence_number % 128 = 0;--> statement-breakpoint
CREATE INDEX "events_anchor_offset_idx" ON "events" USING btree ("partition_id","offset") WHERE sequence_number % 128 = 0;