"""The services the project starts and stops itself: the Kafka broker, the Flink cluster and
its REST client, Airflow, the jars and front-end files they need, and the processes they run as."""
