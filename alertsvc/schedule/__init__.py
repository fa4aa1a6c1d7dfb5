"""The medication administration schedule (MAR), ward shifts and due doses; the timer runner."""
