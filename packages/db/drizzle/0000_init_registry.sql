CREATE TABLE "devices" (
	"device_id" text COLLATE "C" NOT NULL,
	"generation_id" text NOT NULL,
	"etag_version" integer NOT NULL,
	"connection_state" text NOT NULL,
	"connection_state_updated_time" timestamp(3) with time zone,
	"last_activity_time" timestamp(3) with time zone,
	"cloud_to_device_message_count" integer DEFAULT 0 NOT NULL,
	"auth_type" text NOT NULL,
	"primary_key" text,
	"secondary_key" text,
	"primary_thumbprint" text,
	"secondary_thumbprint" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"status_updated_time" timestamp(3) with time zone,
	"iot_edge" boolean DEFAULT false NOT NULL,
	"device_scope" text,
	"parent_scopes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reported" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reported_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired_version" integer DEFAULT 1 NOT NULL,
	"reported_version" integer DEFAULT 1 NOT NULL,
	"twin_version" integer DEFAULT 1 NOT NULL,
	"model_id" text,
	CONSTRAINT "devices_pkey" PRIMARY KEY("device_id")
);
--> statement-breakpoint
CREATE TABLE "hub_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "modules" (
	"device_id" text COLLATE "C" NOT NULL,
	"generation_id" text NOT NULL,
	"etag_version" integer NOT NULL,
	"connection_state" text NOT NULL,
	"connection_state_updated_time" timestamp(3) with time zone,
	"last_activity_time" timestamp(3) with time zone,
	"cloud_to_device_message_count" integer DEFAULT 0 NOT NULL,
	"auth_type" text NOT NULL,
	"primary_key" text,
	"secondary_key" text,
	"primary_thumbprint" text,
	"secondary_thumbprint" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"module_id" text COLLATE "C" NOT NULL,
	"managed_by" text,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reported" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reported_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"desired_version" integer DEFAULT 1 NOT NULL,
	"reported_version" integer DEFAULT 1 NOT NULL,
	"twin_version" integer DEFAULT 1 NOT NULL,
	"model_id" text,
	CONSTRAINT "modules_pkey" PRIMARY KEY("device_id","module_id")
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"username" text PRIMARY KEY NOT NULL,
	"password_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp(3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shared_access_policies" (
	"key_name" text PRIMARY KEY NOT NULL,
	"primary_key" text NOT NULL,
	"secondary_key" text NOT NULL,
	"rights" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "modules" ADD CONSTRAINT "modules_device_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("device_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "devices_connection_state_idx" ON "devices" USING btree ("connection_state");