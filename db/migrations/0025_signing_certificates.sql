CREATE TABLE "signing_certificates" (
	"sha256" text PRIMARY KEY NOT NULL,
	"pem" text NOT NULL,
	"subject" text NOT NULL,
	"first_used_at" timestamp with time zone DEFAULT now() NOT NULL
);
